package dev.perceiver.io;

import dev.perceiver.io.FlowTiling.Tile;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.SegmentAllocator;
import java.util.List;

/**
 * Optical-flow model inputs (spec §3.7): each frame scaled to {@code x/255·2 − 1} in float32, then the 3×3
 * neighbourhood of every pixel with one pixel of zero padding, as 27 channels ordered {@code (kh·3 + kw)·3 + c};
 * the two frames stacked into {@code [B, 2, 27, H, W]}.
 */
public final class FlowInput {
    private FlowInput() {
    }

    /** Patches of two whole frames: {@code [1, 2, 27, H, W]}. */
    public static Tensor patches(RgbImage frame0, RgbImage frame1, SegmentAllocator alloc) {
        return tilePatches(frame0, frame1, List.of(new Tile(0, 0, frame0.height(), frame0.width())), alloc);
    }

    /** Patches of one tile of two frames: {@code [1, 2, 27, h, w]}. */
    public static Tensor tilePatches(RgbImage frame0, RgbImage frame1, Tile tile, SegmentAllocator alloc) {
        return tilePatches(frame0, frame1, List.of(tile), alloc);
    }

    /**
     * Patches of tiles of two frames, one batch entry per tile: {@code [tiles, 2, 27, h, w]}. A tile is cut from the
     * frame before patching, so its border neighbours are zero, as in the colab, which runs the model per tile.
     */
    public static Tensor tilePatches(RgbImage frame0, RgbImage frame1, List<Tile> tiles, SegmentAllocator alloc) {
        if (frame0.width() != frame1.width() || frame0.height() != frame1.height())
            throw new IllegalArgumentException("frames differ in size: " + frame0 + " and " + frame1);
        checkTiles(frame0, tiles);
        Tile first = tiles.getFirst();
        float[][] scaled = {scaled(frame0), scaled(frame1)};
        Tensor out = Tensor.zeros(alloc, tiles.size(), 2, 27, first.height(), first.width());
        float[] plane = new float[first.height() * first.width()];
        long at = 0;
        for (Tile t : tiles) for (float[] frame : scaled) at = writeTile(frame, frame0.width(), t, out, at, plane);
        return out;
    }

    /**
     * One frame's half of {@link #tilePatches}: {@code [tiles, 27, h, w]}, so that a frame of a sequence, which two
     * pairs share, is patched once; a pair's input is then its two frames' entries side by side.
     */
    public static Tensor framePatches(RgbImage frame, List<Tile> tiles, SegmentAllocator alloc) {
        checkTiles(frame, tiles);
        Tile first = tiles.getFirst();
        float[] scaled = scaled(frame), plane = new float[first.height() * first.width()];
        Tensor out = Tensor.zeros(alloc, tiles.size(), 27, first.height(), first.width());
        long at = 0;
        for (Tile t : tiles) at = writeTile(scaled, frame.width(), t, out, at, plane);
        return out;
    }

    private static void checkTiles(RgbImage frame, List<Tile> tiles) {
        if (tiles.isEmpty()) throw new IllegalArgumentException("no tiles");
        int h = tiles.getFirst().height(), w = tiles.getFirst().width();
        for (Tile t : tiles) {
            if (t.height() != h || t.width() != w) throw new IllegalArgumentException("tiles differ in size: " + tiles.getFirst() + " and " + t);
            if (t.y() < 0 || t.x() < 0 || t.y() + h > frame.height() || t.x() + w > frame.width())
                throw new IllegalArgumentException(t + " reaches outside the " + frame.width() + "x" + frame.height() + " frame");
        }
    }

    /** Writes tile t's 27 planes of one scaled frame into out from flat position at; returns the position after. */
    private static long writeTile(float[] frame, int frameWidth, Tile t, Tensor out, long at, float[] plane) {
        for (int k = 0; k < 9; k++) {
            for (int c = 0; c < 3; c++, at += plane.length) {
                neighbourPlane(frame, frameWidth, t, k / 3 - 1, k % 3 - 1, c, plane);
                Floats.write(out, at, plane);
            }
        }
        return at;
    }

    /** The frame as float32 x/255·2 − 1 (the HF test's float32 arithmetic, which the golden patches use). */
    private static float[] scaled(RgbImage frame) {
        byte[] px = frame.pixels();
        float[] out = new float[px.length];
        for (int i = 0; i < px.length; i++) out[i] = (px[i] & 0xFF) / 255f * 2f - 1f;
        return out;
    }

    /** Channel c of the neighbour at offset (dy, dx) of every tile pixel; zero where that neighbour leaves the tile. */
    private static void neighbourPlane(float[] frame, int frameWidth, Tile t, int dy, int dx, int c, float[] plane) {
        for (int y = 0; y < t.height(); y++) {
            int sy = y + dy;
            for (int x = 0; x < t.width(); x++) {
                int sx = x + dx;
                boolean inside = sy >= 0 && sy < t.height() && sx >= 0 && sx < t.width();
                plane[y * t.width() + x] = inside ? frame[((t.y() + sy) * frameWidth + t.x() + sx) * 3 + c] : 0f;
            }
        }
    }
}
