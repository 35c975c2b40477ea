package dev.perceiver.model;

/**
 * PyTorch's {@code F.interpolate(x, scale_factor=(sh, sw), mode="bicubic", align_corners=False)} (no antialiasing)
 * on a grid stored position-major: {@code [H·W, C]}, row {@code y·W + x}, channels innermost. This is what
 * transformers 4.42–4.44 apply to a trainable position table under {@code interpolate_pos_encoding}.
 *
 * <p>Per axis (input length {@code in}, output length {@code out}): {@code r = float32(1 / scale)} (the given scale
 * factor, not {@code in / out}); the source coordinate of output {@code i} is {@code src = r·(i + 0.5) − 0.5}, not
 * clamped; {@code i0 = min(floor(src), in − 1)}, {@code t = float32(clamp(src − i0, 0, 1))}; taps
 * {@code i0−1 … i0+2}, each clamped to {@code [0, in−1]}; Keys' cubic weights with {@code A = −0.75} in float32.
 * The two axes are separable: each output is {@code Σ_i wy_i · (Σ_j wx_j · in[y_i, x_j])}, height outer, width
 * inner, summed in that order. The weights are those of torch 1.13's CPU kernel to the bit (src kept in double
 * precision until t, and the fused multiply-adds its build makes in the cubic polynomials, see {@link #cubic1} and
 * {@link #cubic2}); the sums agree with it to float32 rounding.
 */
final class BicubicResize {
    static final float A = -0.75f;

    private BicubicResize() {}

    /** The four source indices and weights of each output index along one axis. */
    record Taps(int[] index, float[] weight) {
        int size() {
            return index.length / 4;
        }
    }

    /**
     * The taps of an axis of length in resized by scale (torch's {@code scale_factor}) to length out. The caller
     * gives out (torch takes {@code floor(in · scale)}, see {@link #outputSize}).
     */
    static Taps taps(int in, int out, double scale) {
        if (in < 1 || out < 1) throw new IllegalArgumentException("bicubic resize of " + in + " to " + out);
        float r = scale > 0 ? (float) (1.0 / scale) : (float) in / out;
        int[] index = new int[4 * out];
        float[] weight = new float[4 * out];
        for (int i = 0; i < out; i++) {
            double src = r * (i + 0.5) - 0.5;
            int i0 = (int) Math.min(Math.floor(src), in - 1);
            float t = (float) Math.min(Math.max(src - i0, 0), 1);
            float x2 = 1f - t;
            weight[4 * i] = cubic2((float) (t + 1.0));
            weight[4 * i + 1] = cubic1(t);
            weight[4 * i + 2] = cubic1(x2);
            weight[4 * i + 3] = cubic2((float) (x2 + 1.0));
            for (int j = 0; j < 4; j++) index[4 * i + j] = Math.clamp(i0 - 1 + j, 0, in - 1);
        }
        return new Taps(index, weight);
    }

    /** torch's output length for a scale factor: {@code floor(in · scale)} in double precision. */
    static int outputSize(int in, double scale) {
        return (int) Math.floor(in * scale);
    }

    /**
     * Keys' cubic for |x| ≤ 1: ((A + 2)x − (A + 3))·x·x + 1, in float32 with the first step fused (as the reference's
     * torch build computes it; an exact value such as the one at x = 0.25 or 0.5 is the same either way).
     */
    static float cubic1(float x) {
        float u = Math.fma(A + 2, x, -(A + 3)) * x;
        return u * x + 1;
    }

    /** Keys' cubic for 1 < |x| < 2: ((Ax − 5A)x + 8A)·x − 4A, in float32 with the first two steps fused. */
    static float cubic2(float x) {
        float u = Math.fma(Math.fma(A, x, -5 * A), x, 8 * A);
        return u * x - 4 * A;
    }

    /** Receives the resized grid one position (a row of channels) at a time; the array is reused. */
    @FunctionalInterface
    interface RowSink {
        void row(int position, float[] channels);
    }

    /**
     * Resizes src ([inH·inW, channels], position-major) to [outH·outW, channels] with the given taps per axis
     * (rows: along the height, cols: along the width).
     */
    static float[] resize(float[] src, int inH, int inW, int channels, Taps rows, Taps cols) {
        float[] out = new float[Math.multiplyExact(Math.multiplyExact(rows.size(), cols.size()), channels)];
        resize(src, inH, inW, channels, rows, cols, (p, v) -> System.arraycopy(v, 0, out, p * channels, channels));
        return out;
    }

    /**
     * As above, handing each output position's channels to sink, in order. The inner (width) sums of a source row do
     * not depend on the output row, so each is computed once, when first needed, and dropped once no later output
     * row uses it (the taps of successive rows never go back): the same sums in the same order, about half the work.
     */
    static void resize(float[] src, int inH, int inW, int channels, Taps rows, Taps cols, RowSink sink) {
        if ((long) inH * inW * channels != src.length)
            throw new IllegalArgumentException("grid of " + src.length + " values is not " + inH + "x" + inW + "x" + channels);
        int outH = rows.size(), outW = cols.size();
        float[][] inner = new float[inH][];
        float[] out = new float[channels];
        for (int y = 0; y < outH; y++) {
            for (int i = 0; i < 4; i++) {
                int r = rows.index()[4 * y + i];
                if (inner[r] == null) inner[r] = widthSums(src, r, inW, channels, cols);
            }
            for (int x = 0; x < outW; x++) {
                int at = x * channels;
                float[] a0 = inner[rows.index()[4 * y]], a1 = inner[rows.index()[4 * y + 1]];
                float[] a2 = inner[rows.index()[4 * y + 2]], a3 = inner[rows.index()[4 * y + 3]];
                float w0 = rows.weight()[4 * y], w1 = rows.weight()[4 * y + 1];
                float w2 = rows.weight()[4 * y + 2], w3 = rows.weight()[4 * y + 3];
                for (int c = 0; c < channels; c++) {
                    float v = a0[at + c] * w0;
                    v += a1[at + c] * w1;
                    v += a2[at + c] * w2;
                    v += a3[at + c] * w3;
                    out[c] = v;
                }
                sink.row(y * outW + x, out);
            }
            int next = y + 1 < outH ? rows.index()[4 * (y + 1)] : inH;
            for (int r = 0; r < next; r++) inner[r] = null;
        }
    }

    /** Σ_j wx_j · src[row, x_j] for every output column x, first term then the others in order: [outW · channels]. */
    private static float[] widthSums(float[] src, int row, int inW, int channels, Taps cols) {
        int outW = cols.size();
        float[] sums = new float[outW * channels];
        for (int x = 0; x < outW; x++) {
            int s0 = (row * inW + cols.index()[4 * x]) * channels, s1 = (row * inW + cols.index()[4 * x + 1]) * channels;
            int s2 = (row * inW + cols.index()[4 * x + 2]) * channels, s3 = (row * inW + cols.index()[4 * x + 3]) * channels;
            float w0 = cols.weight()[4 * x], w1 = cols.weight()[4 * x + 1];
            float w2 = cols.weight()[4 * x + 2], w3 = cols.weight()[4 * x + 3];
            int at = x * channels;
            for (int c = 0; c < channels; c++) {
                float v = src[s0 + c] * w0;
                v += src[s1 + c] * w1;
                v += src[s2 + c] * w2;
                v += src[s3 + c] * w3;
                sums[at + c] = v;
            }
        }
        return sums;
    }

    /**
     * transformers 4.42–4.44's {@code PerceiverTrainablePositionEncoding.interpolate_pos_encoding} for a feature map
     * of height x width: the table [N, C] as a √N x √N grid (rows y-major), resized with
     * {@code scale_factor = ((height + 0.1) / √N, (width + 0.1) / √N)}, back to [height·width, C]. Even at
     * height = width = √N the table is resampled (the +0.1 makes the scale differ from 1).
     */
    static void interpolatePositions(float[] table, int positions, int channels, int height, int width, RowSink sink) {
        int side = (int) Math.round(Math.sqrt(positions));
        if (side * side != positions)
            throw new IllegalArgumentException("interpolate_pos_encoding: the trainable position table has " + positions
                    + " rows, which is not a square grid");
        double scaleH = (height + 0.1) / side, scaleW = (width + 0.1) / side;
        int outH = outputSize(side, scaleH), outW = outputSize(side, scaleW);
        if (outH != height || outW != width)
            throw new IllegalStateException("bicubic output " + outH + "x" + outW + " for " + height + "x" + width);
        resize(table, side, side, channels, taps(side, outH, scaleH), taps(side, outW, scaleW), sink);
    }
}
