import { describe, expect, it } from "vitest";
import { boundsToShow, formatArea, formatLength, rectangleRing, verticesOf } from "./geometry";

describe("measurements", () => {
  it("formats lengths in µm or mm", () => {
    expect(formatLength(3.14)).toBe("3.1 µm");
    expect(formatLength(42.4)).toBe("42 µm");
    expect(formatLength(1234)).toBe("1.23 mm");
  });

  it("formats areas in µm² or mm²", () => {
    expect(formatArea(1234.4)).toBe("1,234 µm²");
    expect(formatArea(25_000)).toBe("0.025 mm²");
    expect(formatArea(2_500_000)).toBe("2.50 mm²");
  });
});

describe("shapes", () => {
  it("orders a rectangle's corners whichever way it was drawn", () => {
    expect(rectangleRing([10, 20], [0, 0])).toEqual([
      [0, 0],
      [10, 0],
      [10, 20],
      [0, 20],
      [0, 0],
    ]);
  });

  it("lists a polygon's corners without the closing one", () => {
    expect(
      verticesOf({
        type: "Polygon",
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 0],
          ],
        ],
      }),
    ).toHaveLength(3);
  });

  it("shows an annotation with a margin, and a point in at least 400 pixels", () => {
    expect(boundsToShow({ type: "Point", coordinates: [1000, 1000] })).toEqual([720, 720, 560, 560]);
    expect(
      boundsToShow({
        type: "LineString",
        coordinates: [
          [0, 0],
          [1000, 0],
        ],
      }),
    ).toEqual([-200, -280, 1400, 560]);
  });
});
