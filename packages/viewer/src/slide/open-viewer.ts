import type OpenSeadragon from "openseadragon";
import type { TileGrant } from "../types";
import type { TileTokenKeeper } from "./tile-token-keeper";

/**
 * Opens the slide of `grant` in OpenSeadragon inside `element`: reads the DZI descriptor from the
 * tile service and builds a tile source whose URLs carry the keeper's current token.
 */
export async function openSlideViewer(
  OSD: typeof OpenSeadragon,
  element: HTMLElement,
  grant: TileGrant,
  tokens: TileTokenKeeper,
  stillWanted: () => boolean,
): Promise<OpenSeadragon.Viewer | null> {
  const response = await fetch(`${grant.dziUrl}?t=${encodeURIComponent(tokens.token)}`);
  if (!response.ok) throw new Error(`descriptor: ${response.status}`);
  const image = new DOMParser().parseFromString(await response.text(), "application/xml").documentElement;
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
