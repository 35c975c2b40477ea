package dev.perceiver.io;

import dev.perceiver.io.FlowTiling.Tile;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.SegmentAllocator;
import java.util.Arrays;

/**
 * Stitches per-tile flow {@code [h, w, 2]} into the frame's {@code [H, W, 2]}: a weighted mean over the tiles that
 * cover each pixel, with DeepMind's weights ({@link FlowTiling#weight}), which fall off towards tile edges.
 * Sums are kept in double, so a pixel that every covering tile agrees on comes out exactly.
 */
public final class FlowBlender {
    private final int height;
    private final int width;
    private final double[] flowSum;
    private final double[] weightSum;

    public FlowBlender(int height, int width) {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("frame size " + width + "x" + height + " is not positive");
        this.height = height;
        this.width = width;
        this.weightSum = new double[Math.multiplyExact(height, width)];
        this.flowSum = new double[Math.multiplyExact(weightSum.length, 2)];
    }

    /** Adds one tile's flow, {@code [h, w, 2]} or {@code [1, h, w, 2]} (a model output of batch 1). */
    public void add(Tile tile, Tensor flow) {
        int[] s = flow.shape();
        if (s.length == 4 && s[0] == 1) s = Arrays.copyOfRange(s, 1, 4);
        if (s.length != 3 || s[0] != tile.height() || s[1] != tile.width() || s[2] != 2)
            throw new IllegalArgumentException("flow " + Arrays.toString(flow.shape()) + " does not fit " + tile
                    + "; expected [" + tile.height() + ", " + tile.width() + ", 2]");
        add(tile, flow.toArray());
    }

    /** Adds one tile's flow as a dense {@code [h, w, 2]} array. */
    public void add(Tile tile, float[] f) {
        if (f.length != tile.height() * tile.width() * 2)
            throw new IllegalArgumentException(f.length + " values are not the flow of " + tile);
        if (tile.y() < 0 || tile.x() < 0 || tile.y() + tile.height() > height || tile.x() + tile.width() > width)
            throw new IllegalArgumentException(tile + " reaches outside the " + width + "x" + height + " frame");
        for (int y = 0; y < tile.height(); y++) {
            for (int x = 0; x < tile.width(); x++) {
                int w = FlowTiling.weight(y, x, tile.height(), tile.width());
                int p = (tile.y() + y) * width + tile.x() + x, q = (y * tile.width() + x) * 2;
                flowSum[2 * p] += (double) w * f[q];
                flowSum[2 * p + 1] += (double) w * f[q + 1];
                weightSum[p] += w;
            }
        }
    }

    /** The blended flow {@code [H, W, 2]}; every pixel must be covered by an added tile. */
    public Tensor result(SegmentAllocator alloc) {
        float[] out = new float[flowSum.length];
        for (int p = 0; p < weightSum.length; p++) {
            if (weightSum[p] == 0)
                throw new IllegalStateException("pixel (" + p / width + ", " + p % width + ") is covered by no tile added so far");
            out[2 * p] = (float) (flowSum[2 * p] / weightSum[p]);
            out[2 * p + 1] = (float) (flowSum[2 * p + 1] / weightSum[p]);
        }
        return Tensor.of(alloc, out, height, width, 2);
    }
}
