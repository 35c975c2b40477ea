package dev.perceiver.ops;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.SegmentAllocator;
import java.util.Arrays;

/**
 * Kernels on the JDK Vector API; each overrides its scalar twin in {@link ScalarKernels} and is tested against it.
 * Row kernels copy a row into a padded array, reduce in double like their twins and copy it back; the products live
 * in {@link VectorGemm} and {@link VectorAttention}. The hot loops follow the rules in {@link VectorMath}.
 */
public final class VectorKernels extends ScalarKernels {
    public static final VectorKernels INSTANCE = new VectorKernels();
    static final VectorSpecies<Float> F = VectorMath.F;
    private static final VectorSpecies<Double> D = VectorMath.D;
    /** Elements per parallel chunk of a row kernel at least: below that a thread hand-off costs more than the work. */
    private static final int ROW_GRAIN_ELEMENTS = 16_384;

    private VectorKernels() {}

    @Override
    public String name() {
        // Whether vector loads can be aligned (see VectorAlignment): worth 1.4x to the micro-kernel on an Intel core.
        return "vector (" + F.vectorBitSize() + "-bit FloatVector, " + F.length() + " lanes, "
                + (VectorAlignment.known() ? "aligned" : "unaligned: no native access") + ")";
    }

    @Override
    public int panelWidth() {
        return VectorGemm.NR;
    }

    @Override
    public void gemm(Parallel p, Matrix a, PackedMatrix b, Matrix c, Epilogue e) {
        checkGemm(a, b, c, e);
        VectorGemm.gemm(p, a, b, c, e);
    }

    @Override
    public void attention(Parallel p, Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out,
                          Matrix probs, Matrix lse, SegmentAllocator scratch) {
        VectorAttention.attention(p, q, k, v, heads, maskBias, out, probs, lse);
    }

    @Override
    public void layerNorm(Parallel p, Matrix x, Matrix gamma, Matrix beta, float eps, Matrix y) {
        Matrix.requireShape(y, x.rows(), x.cols(), "layerNorm output");
        Matrix.requireShape(gamma, 1, x.cols(), "layerNorm weight");
        Matrix.requireShape(beta, 1, x.cols(), "layerNorm bias");
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            Rows rows = Rows.get(x.cols());
            float[] g = rows.load(1, gamma, 0, 0f), b = rows.load(2, beta, 0, 0f);
            for (int r = r0; r < r1; r++) {
                float[] row = rows.load(0, x, r, 0f);
                layerNormRow(row, x.cols(), g, b, eps);
                y.setRow(r, row, 0);
            }
        });
    }

    @Override
    public void layerNormStats(Parallel p, Matrix x, float eps, float[] mean, float[] rstd) {
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            Rows rows = Rows.get(x.cols());
            for (int r = r0; r < r1; r++) {
                float[] row = rows.load(0, x, r, 0f);
                mean[r] = meanPadded(row, x.cols());
                rstd[r] = rstd(row, x.cols(), mean[r], eps);
            }
        });
    }

    /**
     * As the scalar twin: mean and variance summed in double, then ((x - mean)·rstd)·gamma + beta in float. The row's
     * padding is 0 for the sum and the mean for the squares, so neither adds anything.
     */
    private static void layerNormRow(float[] x, int n, float[] gamma, float[] beta, float eps) {
        int padded = F.loopBound(x.length);
        float mean = meanPadded(x, n);
        float rstd = rstd(x, n, mean, eps);
        for (int c = 0; c < padded; c += F.length())
            FloatVector.fromArray(F, x, c).sub(mean).mul(rstd).mul(FloatVector.fromArray(F, gamma, c))
                    .add(FloatVector.fromArray(F, beta, c)).intoArray(x, c);
    }

    /** The mean of x[0, n) (its padding 0), then the padding set to it so that {@link #rstd} adds nothing for it. */
    private static float meanPadded(float[] x, int n) {
        int padded = F.loopBound(x.length);
        float mean = (float) (rowSum(x, padded) / n);
        Arrays.fill(x, n, padded, mean);
        return mean;
    }

    /** 1/sqrt(biased variance + eps) of x[0, n), its padding equal to mean. */
    private static float rstd(float[] x, int n, float mean, float eps) {
        return (float) (1.0 / Math.sqrt(rowSquares(x, F.loopBound(x.length), mean) / n + eps));
    }

    /**
     * Σ x in double. The two halves of each vector go to sums of their own: one chain of dependent adds took the row
     * kernels' layer norm twice as long.
     */
    private static double rowSum(float[] x, int n) {
        DoubleVector lo = DoubleVector.zero(D), hi = DoubleVector.zero(D);
        for (int c = 0; c < n; c += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, c);
            lo = lo.add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0));
            hi = hi.add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1));
        }
        return VectorMath.sumInOrder(lo.add(hi));
    }

    /** Σ (x - mean)² in double, x - mean rounded to float first as in the twin; two sums as in {@link #rowSum}. */
    private static double rowSquares(float[] x, int n, float mean) {
        DoubleVector sqLo = DoubleVector.zero(D), sqHi = DoubleVector.zero(D);
        for (int c = 0; c < n; c += F.length()) {
            FloatVector d = FloatVector.fromArray(F, x, c).sub(mean);
            DoubleVector lo = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector hi = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 1);
            sqLo = lo.fma(lo, sqLo);
            sqHi = hi.fma(hi, sqHi);
        }
        return VectorMath.sumInOrder(sqLo.add(sqHi));
    }

    @Override
    public void softmaxRows(Parallel p, Matrix x, Matrix maskBias, Matrix lse) {
        if (maskBias != null) Matrix.requireShape(maskBias, 1, x.cols(), "softmax mask");
        if (lse != null) Matrix.requireShape(lse, x.rows(), 1, "softmax log-sum-exp");
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            Rows rows = Rows.get(x.cols());
            float[] mask = maskBias == null ? null : rows.load(1, maskBias, 0, 0f);
            for (int r = r0; r < r1; r++) {
                float[] row = rows.load(0, x, r, Float.NEGATIVE_INFINITY);
                double logSum = softmaxRow(row, mask);
                if (lse != null) lse.set(r, 0, (float) logSum);
                x.setRow(r, row, 0);
            }
        });
    }

    /**
     * As the scalar twin: add the mask, subtract the row max, exponentiate, sum in double, scale by 1/sum; returns
     * log Σ e^x. The row's padding is -inf: it never wins the max and its e^x adds 0.
     */
    private static double softmaxRow(float[] x, float[] mask) {
        int n = F.loopBound(x.length);
        FloatVector maxv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < n; c += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, c);
            if (mask != null) {
                v = v.add(FloatVector.fromArray(F, mask, c));
                v.intoArray(x, c);
            }
            maxv = maxv.max(v);
        }
        float max = maxv.reduceLanes(VectorOperators.MAX);
        for (int c = 0; c < n; c += F.length()) FloatVector.fromArray(F, x, c).sub(max).intoArray(x, c);
        VectorMath.exp(x, 0, n);
        double sum = rowSum(x, n);
        float inv = (float) (1.0 / sum);
        for (int c = 0; c < n; c += F.length()) FloatVector.fromArray(F, x, c).mul(inv).intoArray(x, c);
        return max + Math.log(sum);
    }

    @Override
    public void activation(Parallel p, Matrix x, Activation act) {
        if (act == Activation.NONE) return;
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            Rows rows = Rows.get(x.cols());
            for (int r = r0; r < r1; r++) {
                float[] row = rows.load(0, x, r, 0f);
                VectorMath.activate(row, 0, row.length, act);
                x.setRow(r, row, 0);
            }
        });
    }

    @Override
    public void add(Parallel p, Matrix a, Matrix b, Matrix out) {
        Matrix.requireShape(b, a.rows(), a.cols(), "add operand");
        Matrix.requireShape(out, a.rows(), a.cols(), "add output");
        p.forRange(a.rows(), grain(a.cols()), (r0, r1) -> {
            Rows rows = Rows.get(a.cols());
            for (int r = r0; r < r1; r++) {
                float[] x = rows.load(0, a, r, 0f), y = rows.load(1, b, r, 0f);
                for (int c = 0; c < x.length; c += F.length())
                    FloatVector.fromArray(F, x, c).add(FloatVector.fromArray(F, y, c)).intoArray(x, c);
                out.setRow(r, x, 0);
            }
        });
    }

    @Override
    public void scaleShift(Parallel p, Matrix x, Matrix scale, Matrix shift, Activation act) {
        Matrix.requireShape(scale, 1, x.cols(), "scale");
        Matrix.requireShape(shift, 1, x.cols(), "shift");
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            Rows rows = Rows.get(x.cols());
            float[] sc = rows.load(1, scale, 0, 0f), sh = rows.load(2, shift, 0, 0f);
            for (int r = r0; r < r1; r++) {
                float[] row = rows.load(0, x, r, 0f);
                for (int c = 0; c < row.length; c += F.length())
                    FloatVector.fromArray(F, row, c).fma(FloatVector.fromArray(F, sc, c), FloatVector.fromArray(F, sh, c))
                            .intoArray(row, c);
                VectorMath.activate(row, 0, row.length, act);
                x.setRow(r, row, 0);
            }
        });
    }

    @Override
    public void foldLayerNorm(Parallel p, Matrix x, Matrix fixed, float[] rstd, float[] delta, float[] sums,
                              float[] constant, float divisor, boolean tokensInRows) {
        FoldShape.check(x, fixed, rstd, delta, sums, constant, tokensInRows);
        // The values that run along a row, padded to whole vectors; the others are one value per row.
        float[] along1 = padded(tokensInRows ? sums : rstd), along2 = padded(tokensInRows ? constant : delta);
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            Rows rows = Rows.get(x.cols());
            float[] none = fixed == null ? rows.zeros(1) : null;
            for (int r = r0; r < r1; r++) {
                float[] xr = rows.load(0, x, r, 0f), fr = fixed == null ? none : rows.load(1, fixed, r, 0f);
                if (tokensInRows) foldTokenRow(xr, fr, rstd[r], delta[r], along1, along2, divisor);
                else foldOtherRow(xr, fr, along1, along2, sums[r], constant[r], divisor);
                x.setRow(r, xr, 0);
            }
        });
    }

    @Override
    public void gridSums(Parallel p, Matrix probs, float[] weight, int first, int line, Matrix along, Matrix lines) {
        checkGridSums(probs, weight, first, line, along, lines);
        int n = probs.cols(), touched = Kernels.gridLines(first, n, line);
        float[] w = Arrays.copyOf(weight, n);
        p.forRange(probs.rows(), grain(n), (r0, r1) -> {
            float[] pr = new float[n], al = new float[line], ls = new float[touched];
            for (int r = r0; r < r1; r++) {
                probs.copyRow(r, pr);
                Arrays.fill(al, 0f);
                // A piece of a line at a time: its weighted probabilities add to the last axis's coordinates and sum to
                // the line's total.
                for (int i = 0, l = 0; i < n; l++) {
                    int j0 = (first + i) % line, piece = Math.min(line - j0, n - i);
                    ls[l] = addAlong(pr, w, i, al, j0, piece);
                    i += piece;
                }
                along.setRow(r, al, 0);
                if (lines != null) lines.setRow(r, ls, 0);
            }
        });
    }

    /** along[j0 + t] += p[i + t]·w[i + t] for t < count; returns their sum. */
    private static float addAlong(float[] p, float[] w, int i, float[] along, int j0, int count) {
        FloatVector sum = FloatVector.zero(F);
        int t = 0;
        for (; t + F.length() <= count; t += F.length()) {
            FloatVector x = FloatVector.fromArray(F, p, i + t).mul(FloatVector.fromArray(F, w, i + t));
            FloatVector.fromArray(F, along, j0 + t).add(x).intoArray(along, j0 + t);
            sum = sum.add(x);
        }
        float rest = 0f;
        for (; t < count; t++) {
            float x = p[i + t] * w[i + t];
            along[j0 + t] += x;
            rest += x;
        }
        return sum.reduceLanes(VectorOperators.ADD) + rest;
    }

    /** A row that is one token: its rstd and delta against each column's sums and constant. */
    private static void foldTokenRow(float[] x, float[] f, float rstd, float delta, float[] sums, float[] constant,
                                     float divisor) {
        FloatVector g = FloatVector.broadcast(F, rstd), d = FloatVector.broadcast(F, delta);
        FloatVector k = FloatVector.broadcast(F, divisor);
        for (int i = 0; i < x.length; i += F.length())
            fold(x, f, i, g, d, FloatVector.fromArray(F, sums, i), FloatVector.fromArray(F, constant, i), k);
    }

    /** A row whose columns are tokens: each column's rstd and delta against the row's sums and constant. */
    private static void foldOtherRow(float[] x, float[] f, float[] rstd, float[] delta, float sums, float constant,
                                     float divisor) {
        FloatVector s = FloatVector.broadcast(F, sums), c = FloatVector.broadcast(F, constant);
        FloatVector k = FloatVector.broadcast(F, divisor);
        for (int i = 0; i < x.length; i += F.length())
            fold(x, f, i, FloatVector.fromArray(F, rstd, i), FloatVector.fromArray(F, delta, i), s, c, k);
    }

    /** x[i, i + lanes) = (((x + f) + delta·sums)·rstd + constant) / divisor: the scalar twin's order of operations. */
    private static void fold(float[] x, float[] f, int i, FloatVector rstd, FloatVector delta, FloatVector sums,
                             FloatVector constant, FloatVector divisor) {
        FloatVector.fromArray(F, x, i).add(FloatVector.fromArray(F, f, i)).add(delta.mul(sums)).mul(rstd).add(constant)
                .div(divisor).intoArray(x, i);
    }

    /** a copied into an array of whole vectors, zero past its end. */
    private static float[] padded(float[] a) {
        return Arrays.copyOf(a, Math.max(F.length(), VectorGemm.roundUp(a.length, F.length())));
    }

    private static int grain(int cols) {
        return Math.max(1, ROW_GRAIN_ELEMENTS / Math.max(1, cols));
    }

    /**
     * A thread's row buffers for the row kernels, each a whole number of vectors long: a row is copied in with one
     * bulk copy, worked on as arrays (see {@link VectorMath}) and copied out.
     */
    private static final class Rows {
        private static final ThreadLocal<Rows> OF_THREAD = ThreadLocal.withInitial(Rows::new);
        private final float[][] slots = new float[3][];
        private int cols = -1;

        static Rows get(int cols) {
            Rows rows = OF_THREAD.get();
            if (rows.cols != cols) {
                int padded = Math.max(F.length(), VectorGemm.roundUp(cols, F.length()));
                for (int i = 0; i < rows.slots.length; i++) rows.slots[i] = new float[padded];
                rows.cols = cols;
            }
            return rows;
        }

        /** Slot i, all zeros. */
        float[] zeros(int i) {
            Arrays.fill(slots[i], 0f);
            return slots[i];
        }

        /** Row r of m into slot i, the padding past m's columns set to pad. */
        float[] load(int i, Matrix m, int r, float pad) {
            float[] row = slots[i];
            m.copyRow(r, row, 0);
            Arrays.fill(row, cols, row.length, pad);
            return row;
        }
    }
}
