package dev.perceiver.ops;

/** The shape checks of {@link Kernels#foldLayerNorm}, shared by its two implementations. */
final class FoldShape {
    private FoldShape() {}

    static void check(Matrix x, Matrix fixed, float[] rstd, float[] delta, float[] sums, float[] constant,
                      boolean tokensInRows) {
        if (fixed != null) Matrix.requireShape(fixed, x.rows(), x.cols(), "fixed");
        int tokens = tokensInRows ? x.rows() : x.cols(), others = tokensInRows ? x.cols() : x.rows();
        requireLength(rstd, tokens, "rstd");
        requireLength(delta, tokens, "delta");
        requireLength(sums, others, "sums");
        requireLength(constant, others, "constant");
    }

    private static void requireLength(float[] a, int length, String name) {
        if (a.length < length)
            throw new IllegalArgumentException(name + " has " + a.length + " values, needs " + length);
    }
}
