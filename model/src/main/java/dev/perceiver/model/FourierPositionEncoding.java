package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.ops.Matrix;

import java.util.Arrays;

/**
 * transformers' PerceiverFourierPositionEncoding: for a position p in [-1, 1]^d, features
 * {@code [p | sin(π·f·p) | cos(π·f·p)]} with sines and cosines dimension-major, band-minor, and frequencies
 * {@code f[j] = linspace(1, max_resolution[j] / 2, num_bands)}. Every step rounds to float32 as torch does on the CPU
 * (products in float32, π rounded to float32), so the features match the reference to the last bit or two.
 */
final class FourierPositionEncoding {
    private static final float PI = (float) Math.PI;

    final int numBands;
    final int[] maxResolution;
    final boolean concatPos;
    final boolean sineOnly;
    private final float[][] frequencies;

    FourierPositionEncoding(int numBands, int[] maxResolution, boolean concatPos, boolean sineOnly) {
        this.numBands = numBands;
        this.maxResolution = maxResolution.clone();
        this.concatPos = concatPos;
        this.sineOnly = sineOnly;
        this.frequencies = new float[maxResolution.length][numBands];
        for (int j = 0; j < maxResolution.length; j++)
            for (int k = 0; k < numBands; k++)
                frequencies[j][k] = linspace(1f, (float) (maxResolution[j] / 2.0), numBands, k);
    }

    int dims() {
        return maxResolution.length;
    }

    int outputSize() {
        int d = dims();
        return d * numBands * (sineOnly ? 1 : 2) + (concatPos ? d : 0);
    }

    /** Element i of torch.linspace(start, end, steps) in float32 on the CPU: symmetric from both ends. */
    static float linspace(float start, float end, int steps, int i) {
        if (steps == 1) return start;
        float step = (end - start) / (steps - 1);
        return i < steps / 2 ? start + step * i : end - step * (steps - 1 - i);
    }

    /**
     * The features of every point of a grid of indexDims, at positions linspace(-1, 1, n) per axis, row-major (the
     * preprocessors' input grid), kept as one table per axis: a point's features are its coordinates' rows summed,
     * each row holding its axis's channels and zeros elsewhere, so the grid takes sum(dims) rows instead of
     * prod(dims) (188 MB for optical flow's 368x496).
     */
    Grid grid(int[] indexDims) {
        return grid(indexDims, (c, n) -> linspace(-1f, 1f, n, c));
    }

    /**
     * As {@link #grid}, at the positions the decoders give their (subsampled) output points: {@code -1 + 2·c/n} per
     * axis (not linspace: the right end is 1 - 2/n).
     */
    Grid outputGrid(int[] indexDims) {
        return grid(indexDims, (c, n) -> -1f + (2f * c) / n);
    }

    /** A coordinate c of an axis of n points, as a position in [-1, 1]. */
    private interface AxisPosition {
        float of(int c, int n);
    }

    private Grid grid(int[] indexDims, AxisPosition position) {
        if (indexDims.length != dims()) throw new IllegalArgumentException(
                "a grid of " + indexDims.length + " dimensions, the encoding " + dims());
        float[][][] axes = new float[indexDims.length][][];
        for (int j = 0; j < indexDims.length; j++) {
            axes[j] = new float[indexDims[j]][outputSize()];
            for (int c = 0; c < indexDims[j]; c++) placeAxis(j, position.of(c, indexDims[j]), axes[j][c]);
        }
        return new Grid(indexDims.clone(), axes, outputSize());
    }

    /** See {@link #grid}. */
    static final class Grid {
        private final int[] dims;
        private final float[][][] axes;
        private final long points;
        private final int channels;

        private Grid(int[] dims, float[][][] axes, int channels) {
            this.dims = dims;
            this.axes = axes;
            this.points = Arrays.stream(dims).asLongStream().reduce(1, Math::multiplyExact);
            this.channels = channels;
        }

        long points() {
            return points;
        }

        int channels() {
            return channels;
        }

        int[] dims() {
            return dims.clone();
        }

        /** Axis j's features at coordinate c: its channels, zeros elsewhere (not to be written). */
        float[] axisRow(int j, int c) {
            return axes[j][c];
        }

        /** Every point's features into dest [points(), channels()], row-major over the grid. */
        void write(Matrix dest) {
            float[] row = new float[channels()];
            for (int i = 0; i < points; i++) {
                point(i, row, 0);
                dest.setRow(i, row, 0);
            }
        }

        /** The features of the points at flat indices into the grid into dest [points.length, channels()]. */
        void write(long[] points, Matrix dest) {
            float[] row = new float[channels()];
            for (int i = 0; i < points.length; i++) {
                if (points[i] < 0 || points[i] >= this.points)
                    throw new InvalidInputException("output point " + points[i] + " is outside the " + this.points
                            + " output points " + Arrays.toString(dims));
                point(points[i], row, 0);
                dest.setRow(i, row, 0);
            }
        }

        /** The features of the point at flat index i into row[at, at + channels()). */
        void point(long i, float[] row, int at) {
            Arrays.fill(row, at, at + channels, 0f);
            long rest = i;
            for (int j = dims.length - 1; j >= 0; rest /= dims[j], j--) {
                float[] axis = axes[j][(int) (rest % dims[j])];
                for (int ch = 0; ch < channels; ch++) row[at + ch] += axis[ch];
            }
        }
    }

    /** Axis j's channels of a position whose coordinate on it is p, into row: [p | sines | cosines] at their places. */
    private void placeAxis(int j, float p, float[] row) {
        int d = dims(), at = concatPos ? d : 0;
        if (concatPos) row[j] = p;
        for (int k = 0; k < numBands; k++) {
            float arg = PI * (p * frequencies[j][k]);
            row[at + j * numBands + k] = (float) Math.sin(arg);
            if (!sineOnly) row[at + (d + j) * numBands + k] = (float) Math.cos(arg);
        }
    }
}
