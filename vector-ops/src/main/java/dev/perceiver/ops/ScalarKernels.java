package dev.perceiver.ops;

import java.lang.foreign.SegmentAllocator;

/**
 * Plain loops, one element at a time: the reference every vector kernel is tested against, and the fallback when
 * the Vector API is missing. Reductions accumulate in double where that is free of cost to clarity.
 */
public class ScalarKernels implements Kernels {

    static final ScalarKernels INSTANCE = new ScalarKernels();

    /** Panel width of packed operands (any width works here; the vector kernels pack theirs at their tile width). */
    public static final int PANEL_WIDTH = 32;

    protected ScalarKernels() {}

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public int panelWidth() {
        return PANEL_WIDTH;
    }

    @Override
    public void gemm(Parallel p, Matrix a, PackedMatrix b, Matrix c, Epilogue e) {
        checkGemm(a, b, c, e);
        p.forRange(a.rows(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++)
                for (int col = 0; col < b.n(); col++) {
                    float acc = 0f;
                    for (int kk = 0; kk < b.k(); kk++) acc = Math.fma(a.get(r, kk), b.get(kk, col), acc);
                    c.set(r, col, finish(acc, r, col, e));
                }
        });
    }

    /** The epilogue for one output: act(acc + bias) + residual. */
    static float finish(float acc, int r, int col, Epilogue e) {
        if (e.bias() != null) acc += e.bias().get(0, col);
        acc = apply(e.activation(), acc);
        if (e.residual() != null) acc += e.residual().get(r, col);
        return acc;
    }

    static float apply(Activation act, float x) {
        return switch (act) {
            case NONE -> x;
            case GELU -> Erf.gelu(x);
            case RELU -> x > 0f ? x : (x == x ? 0f : x);
        };
    }

    static void checkGemm(Matrix a, PackedMatrix b, Matrix c, Epilogue e) {
        if (a.cols() != b.k())
            throw new IllegalArgumentException("gemm: a is " + a.rows() + "x" + a.cols() + " but b has " + b.k() + " rows");
        Matrix.requireShape(c, a.rows(), b.n(), "gemm output");
        if (e.bias() != null) Matrix.requireShape(e.bias(), 1, b.n(), "gemm bias");
        if (e.residual() != null) Matrix.requireShape(e.residual(), a.rows(), b.n(), "gemm residual");
    }

    @Override
    public void layerNorm(Parallel p, Matrix x, Matrix gamma, Matrix beta, float eps, Matrix y) {
        Matrix.requireShape(y, x.rows(), x.cols(), "layerNorm output");
        Matrix.requireShape(gamma, 1, x.cols(), "layerNorm weight");
        Matrix.requireShape(beta, 1, x.cols(), "layerNorm bias");
        int n = x.cols();
        p.forRange(x.rows(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                float mean = rowMean(x, r), rstd = rowRstd(x, r, mean, eps);
                for (int c = 0; c < n; c++)
                    y.set(r, c, (x.get(r, c) - mean) * rstd * gamma.get(0, c) + beta.get(0, c));
            }
        });
    }

    @Override
    public void layerNormStats(Parallel p, Matrix x, float eps, float[] mean, float[] rstd) {
        p.forRange(x.rows(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                mean[r] = rowMean(x, r);
                rstd[r] = rowRstd(x, r, mean[r], eps);
            }
        });
    }

    /** Row r's mean, summed in double. */
    private static float rowMean(Matrix x, int r) {
        int n = x.cols();
        double sum = 0;
        for (int c = 0; c < n; c++) sum += x.get(r, c);
        return (float) (sum / n);
    }

    /** 1/sqrt(biased variance + eps) of row r, the squares of (x - mean) rounded to float first summed in double. */
    private static float rowRstd(Matrix x, int r, float mean, float eps) {
        int n = x.cols();
        double sq = 0;
        for (int c = 0; c < n; c++) {
            double d = x.get(r, c) - mean;
            sq += d * d;
        }
        return (float) (1.0 / Math.sqrt(sq / n + eps));
    }

    @Override
    public void softmaxRows(Parallel p, Matrix x, Matrix maskBias, Matrix lse) {
        if (maskBias != null) Matrix.requireShape(maskBias, 1, x.cols(), "softmax mask");
        if (lse != null) Matrix.requireShape(lse, x.rows(), 1, "softmax log-sum-exp");
        p.forRange(x.rows(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                double logSum = softmaxRow(x, r, maskBias);
                if (lse != null) lse.set(r, 0, (float) logSum);
            }
        });
    }

    /** Returns the row's log Σ e^x. */
    private static double softmaxRow(Matrix x, int r, Matrix maskBias) {
        int n = x.cols();
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < n; c++) {
            float v = x.get(r, c);
            if (maskBias != null) x.set(r, c, v += maskBias.get(0, c));
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int c = 0; c < n; c++) {
            float e = (float) Math.exp(x.get(r, c) - max);
            x.set(r, c, e);
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int c = 0; c < n; c++) x.set(r, c, x.get(r, c) * inv);
        return max + Math.log(sum);
    }

    @Override
    public void activation(Parallel p, Matrix x, Activation act) {
        if (act == Activation.NONE) return;
        p.forRange(x.rows(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++)
                for (int c = 0; c < x.cols(); c++) x.set(r, c, apply(act, x.get(r, c)));
        });
    }

    @Override
    public void add(Parallel p, Matrix a, Matrix b, Matrix out) {
        Matrix.requireShape(b, a.rows(), a.cols(), "add operand");
        Matrix.requireShape(out, a.rows(), a.cols(), "add output");
        p.forRange(a.rows(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++)
                for (int c = 0; c < a.cols(); c++) out.set(r, c, a.get(r, c) + b.get(r, c));
        });
    }

    @Override
    public void scaleShift(Parallel p, Matrix x, Matrix scale, Matrix shift, Activation act) {
        Matrix.requireShape(scale, 1, x.cols(), "scale");
        Matrix.requireShape(shift, 1, x.cols(), "shift");
        p.forRange(x.rows(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++)
                for (int c = 0; c < x.cols(); c++)
                    x.set(r, c, apply(act, Math.fma(x.get(r, c), scale.get(0, c), shift.get(0, c))));
        });
    }

    @Override
    public void gridSums(Parallel p, Matrix probs, float[] weight, int first, int line, Matrix along, Matrix lines) {
        checkGridSums(probs, weight, first, line, along, lines);
        p.forRange(probs.rows(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                along.row(r).fill(0f);
                if (lines != null) lines.row(r).fill(0f);
                for (int i = 0; i < probs.cols(); i++) {
                    float w = probs.get(r, i) * weight[i];
                    int at = first + i, j = at % line, l = at / line - first / line;
                    along.set(r, j, along.get(r, j) + w);
                    if (lines != null) lines.set(r, l, lines.get(r, l) + w);
                }
            }
        });
    }

    static void checkGridSums(Matrix probs, float[] weight, int first, int line, Matrix along, Matrix lines) {
        if (line < 1 || first < 0)
            throw new IllegalArgumentException("gridSums: line " + line + " and first " + first + " must be positive");
        if (weight.length < probs.cols())
            throw new IllegalArgumentException("gridSums: " + weight.length + " weights for " + probs.cols() + " tokens");
        Matrix.requireShape(along, probs.rows(), line, "grid sums along the last axis");
        if (lines != null)
            Matrix.requireShape(lines, probs.rows(), Kernels.gridLines(first, probs.cols(), line), "grid line sums");
    }

    @Override
    public void foldLayerNorm(Parallel p, Matrix x, Matrix fixed, float[] rstd, float[] delta, float[] sums,
                              float[] constant, float divisor, boolean tokensInRows) {
        FoldShape.check(x, fixed, rstd, delta, sums, constant, tokensInRows);
        p.forRange(x.rows(), 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++)
                for (int c = 0; c < x.cols(); c++) {
                    int t = tokensInRows ? r : c, o = tokensInRows ? c : r;
                    float f = fixed == null ? 0f : fixed.get(r, c);
                    x.set(r, c, (rstd[t] * (x.get(r, c) + f + delta[t] * sums[o]) + constant[o]) / divisor);
                }
        });
    }

    @Override
    public void attention(Parallel p, Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out,
                          Matrix probs, Matrix lse, SegmentAllocator scratch) {
        AttentionShape s = AttentionShape.of(q, k, v, heads, maskBias, out, probs, lse);
        float invScale = 1f / (float) Math.sqrt(s.dqk());
        p.forRange(heads * s.nq(), 1, (i0, i1) -> {
            float[] scores = new float[s.nk()];
            for (int i = i0; i < i1; i++) {
                int h = i / s.nq(), row = i % s.nq();
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < s.nk(); j++) {
                    float dot = 0f;
                    for (int d = 0; d < s.dqk(); d++) dot = Math.fma(q.get(row, h * s.dqk() + d), k.get(j, h * s.dqk() + d), dot);
                    float sc = dot * invScale;
                    if (maskBias != null) sc += maskBias.get(0, j);
                    scores[j] = sc;
                    max = Math.max(max, sc);
                }
                double sum = 0;
                for (int j = 0; j < s.nk(); j++) {
                    scores[j] = (float) Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                float inv = (float) (1.0 / sum);
                for (int j = 0; j < s.nk(); j++) scores[j] *= inv;
                if (lse != null) lse.set(h * s.nq() + row, 0, (float) (max + Math.log(sum)));
                if (probs != null)
                    for (int j = 0; j < s.nk(); j++) probs.set(h * s.nq() + row, j, scores[j]);
                // In double: a float chain over hundreds of thousands of keys (the flow encoder) drifts.
                for (int d = 0; d < s.dv(); d++) {
                    double acc = 0;
                    for (int j = 0; j < s.nk(); j++) acc += (double) scores[j] * v.get(j, h * s.dv() + d);
                    out.set(row, h * s.dv() + d, (float) acc);
                }
            }
        });
    }
}
