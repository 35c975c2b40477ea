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

    /** Positions of every point of a grid, linspace(-1, 1, n) per axis, row-major: [prod(dims)][d]. */
    static float[][] gridPositions(int[] indexDims) {
        int n = Math.toIntExact(Arrays.stream(indexDims).asLongStream().reduce(1, Math::multiplyExact));
        float[][] pos = new float[n][indexDims.length];
        for (int i = 0; i < n; i++) {
            int rest = i;
            for (int j = indexDims.length - 1; j >= 0; j--) {
                pos[i][j] = linspace(-1f, 1f, indexDims[j], rest % indexDims[j]);
                rest /= indexDims[j];
            }
        }
        return pos;
    }

    /**
     * Positions of flat indices into a grid, as the decoders compute them for subsampled output points:
     * {@code -1 + 2·coord/dim} (not linspace: the right end is 1 - 2/dim).
     */
    static float[][] subsampledPositions(long[] flatIndices, int[] indexDims) {
        long total = Arrays.stream(indexDims).asLongStream().reduce(1, Math::multiplyExact);
        float[][] pos = new float[flatIndices.length][indexDims.length];
        for (int i = 0; i < flatIndices.length; i++) {
            long rest = flatIndices[i];
            if (rest < 0 || rest >= total)
                throw new InvalidInputException("subsampled output point " + rest + " is outside the " + total
                        + " output points " + Arrays.toString(indexDims));
            for (int j = indexDims.length - 1; j >= 0; j--) {
                float coord = rest % indexDims[j];
                pos[i][j] = -1f + (2f * coord) / indexDims[j];
                rest /= indexDims[j];
            }
        }
        return pos;
    }

    /** Writes the features of positions[r] into row r of out ([positions.length, outputSize()]). */
    void features(float[][] positions, Matrix out) {
        int d = dims();
        for (int r = 0; r < positions.length; r++) {
            float[] p = positions[r];
            if (p.length != d)
                throw new IllegalArgumentException("positions have " + p.length + " dimensions, the encoding " + d);
            int c = 0;
            if (concatPos) for (int j = 0; j < d; j++) out.set(r, c++, p[j]);
            int sines = c, cosines = c + d * numBands;
            for (int j = 0; j < d; j++)
                for (int k = 0; k < numBands; k++) {
                    float arg = PI * (p[j] * frequencies[j][k]);
                    out.set(r, sines++, (float) Math.sin(arg));
                    if (!sineOnly) out.set(r, cosines++, (float) Math.cos(arg));
                }
        }
    }
}
