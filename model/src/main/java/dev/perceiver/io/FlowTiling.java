package dev.perceiver.io;

import java.util.ArrayList;
import java.util.List;

/**
 * How the optical-flow model, which only takes frames of its train size, covers larger frames: DeepMind's colab grid
 * ({@code range(0, H, tileHeight − minOverlap)}, the last tile flush with the border) with two fixes. Tiles are not
 * repeated (the colab computes the same tile several times when a side equals the tile size plus a multiple of the
 * step, e.g. four times for a 368×496 frame), and starts past {@code H − tileHeight} are clamped to it (the colab
 * keeps them when two of its starts land there, and such a tile would run past the frame). Consecutive tiles
 * overlap by at least minOverlap. Frames smaller than a tile are refused: pad or resize them first.
 */
public record FlowTiling(int tileHeight, int tileWidth, int minOverlap) {
    /** The official checkpoint's train_size (368, 496) and the colab's minimum overlap of 20 pixels. */
    public static final FlowTiling PERCEIVER_DEFAULT = new FlowTiling(368, 496, 20);

    /** One tile: its top-left corner in the frame and its size. */
    public record Tile(int y, int x, int height, int width) {
    }

    public FlowTiling {
        if (tileHeight <= 0 || tileWidth <= 0) throw new IllegalArgumentException("tile size " + tileHeight + "x" + tileWidth + " is not positive");
        if (minOverlap < 0 || minOverlap >= Math.min(tileHeight, tileWidth))
            throw new IllegalArgumentException("minimum overlap " + minOverlap + " must be in [0, " + Math.min(tileHeight, tileWidth) + ")");
    }

    /** The tiles for a height x width frame, row by row. */
    public List<Tile> plan(int height, int width) {
        if (height < tileHeight || width < tileWidth)
            throw new IllegalArgumentException("frame " + width + "x" + height + " is smaller than the model's "
                    + tileWidth + "x" + tileHeight + " input; pad or resize it to at least that size");
        List<Tile> tiles = new ArrayList<>();
        for (int y : starts(height, tileHeight)) for (int x : starts(width, tileWidth)) tiles.add(new Tile(y, x, tileHeight, tileWidth));
        return tiles;
    }

    private List<Integer> starts(int size, int tile) {
        List<Integer> out = new ArrayList<>();
        for (int s = 0; s < size; s += tile - minOverlap) {
            int start = Math.min(s, size - tile);
            if (out.isEmpty() || out.getLast() != start) out.add(start);
        }
        return out;
    }

    /** DeepMind's blend weight of tile pixel (y, x): its distance to the tile's nearest edge, counting from 1. */
    public static int weight(int y, int x, int tileHeight, int tileWidth) {
        return Math.min(Math.min(x + 1, tileWidth - x), Math.min(y + 1, tileHeight - y));
    }
}
