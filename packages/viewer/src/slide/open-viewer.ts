import type OpenSeadragon from "openseadragon";
import type { TileGrant } from "../types";
import type { TileTokenKeeper } from "./tile-token-keeper";

/** The slide's DZI descriptor from the tile service (fetched while OpenSeadragon's code loads). */
export async function fetchSlideDescriptor(grant: TileGrant): Promise<string> {
  const response = await fetch(`${grant.dziUrl}?t=${encodeURIComponent(grant.token)}`);
  if (!response.ok) throw new Error(`descriptor: ${response.status}`);
  return response.text();
}

/**
 * Opens the slide of `grant` in OpenSeadragon inside `element` from its DZI descriptor, with a
 * tile source whose URLs carry the keeper's current token.
 */
export function openSlideViewer(
  OSD: typeof OpenSeadragon,
  element: HTMLElement,
  grant: TileGrant,
  descriptor: string,
  tokens: TileTokenKeeper,
  stillWanted: () => boolean,
): OpenSeadragon.Viewer | null {
  const image = new DOMParser().parseFromString(descriptor, "application/xml").documentElement;
  const size = image.getElementsByTagName("Size")[0]!;
  const tilesUrl = grant.dziUrl.replace(/\.dzi$/, "_files/");
  const format = image.getAttribute("Format") ?? "jpeg";
  const source = new OSD.DziTileSource(
    Number(size.getAttribute("Width")),
    Number(size.getAttribute("Height")),
    Number(image.getAttribute("TileSize")),
    Number(image.getAttribute("Overlap")),
    tilesUrl,
    format,
  );
  // A URL getter: OpenSeadragon reads it when it fetches the tile, and keys its cache by level/x/y.
  source.getTileUrl = ((level: number, x: number, y: number) => () =>
    `${tilesUrl}${level}/${x}_${y}.${format}?t=${encodeURIComponent(tokens.token)}`) as unknown as typeof source.getTileUrl;
  if (!stillWanted()) return null;
  return OSD({
    element,
    tileSources: source as unknown as OpenSeadragon.TileSourceOptions, // a TileSource instance is accepted; the types miss it
    crossOriginPolicy: "Anonymous",
    // The 2D canvas drawer, not OpenSeadragon's default WebGL one: without a GPU (software
    // WebGL: remote desktops, headless Chromium) each WebGL frame is read back into a 2D canvas,
    // frames take 100–500 ms and the first field of view came 2–7× later (bench/first-view).
    drawer: "canvas",
    showNavigator: true,
    navigatorPosition: "TOP_RIGHT",
    showNavigationControl: false,
    loadTilesWithAjax: true,
    maxZoomPixelRatio: 4,
    visibilityRatio: 0.5,
    animationTime: 0.4,
    gestureSettingsTouch: { pinchRotate: true },
  });
}
