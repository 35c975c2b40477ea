package dev.perceiver.ops;

import java.lang.foreign.SegmentAllocator;

/**
 * The float32 kernels the engine runs on. {@link ScalarKernels} is the plain reference; {@link #best()} picks the
 * Vector API implementation where the JVM has it. Every method works on {@link Matrix} views, so callers pick heads,
 * batches and chunks by slicing, never by copying.
 */
public interface Kernels {

    String name();

    /** Panel width (columns) this implementation packs right operands with. */
    int panelWidth();

    default PackedMatrix packTransposed(Matrix w) {
        return PackedMatrix.packTransposed(w, panelWidth());
    }

    default PackedMatrix pack(Matrix b) {
        return PackedMatrix.pack(b, panelWidth());
    }

    /** {@link #pack(Matrix)} in reuse's array where it is large enough (see {@link PackedMatrix#pack(Matrix, int, PackedMatrix)}). */
    default PackedMatrix pack(Matrix b, PackedMatrix reuse) {
        return PackedMatrix.pack(b, panelWidth(), reuse);
    }

    /** c = act(a·b + bias) + residual, with a m x k, b k x n, c m x n. */
    void gemm(Parallel p, Matrix a, PackedMatrix b, Matrix c, Epilogue epilogue);

    /** y = (x - mean) / sqrt(var + eps) · gamma + beta per row (biased variance); y may be x. */
    void layerNorm(Parallel p, Matrix x, Matrix gamma, Matrix beta, float eps, Matrix y);

    /**
     * Each row's mean and 1/sqrt(var + eps) (biased variance) into mean[r] and rstd[r], exactly as {@link #layerNorm}
     * computes them: for callers that fold the normalisation into something else.
     */
    void layerNormStats(Parallel p, Matrix x, float eps, float[] mean, float[] rstd);

    /** Softmax of each row in place, after adding maskBias (1 x cols, or null) to every row. */
    default void softmaxRows(Parallel p, Matrix x, Matrix maskBias) {
        softmaxRows(p, x, maskBias, null);
    }

    /**
     * {@link #softmaxRows} that also stores, if lse (rows x 1) is non-null, each row's log Σ_j e^{x_j} (mask added):
     * what {@link #mergeAttention} needs to combine probabilities over separate blocks of columns.
     */
    void softmaxRows(Parallel p, Matrix x, Matrix maskBias, Matrix lse);

    /** x = act(x) in place. */
    void activation(Parallel p, Matrix x, Activation act);

    /** out = a + b; out may be a or b. */
    void add(Parallel p, Matrix a, Matrix b, Matrix out);

    /** x[r][c] = act(x[r][c] · scale[c] + shift[c]) in place (eval-mode batch norm folded into scale and shift). */
    void scaleShift(Parallel p, Matrix x, Matrix scale, Matrix shift, Activation act);

    /**
     * A layer norm's statistics applied after the product it feeds (the model's factored cross-attention), in place:
     * with t a token and o the other index, x[t, o] = (rstd[t]·(x[t, o] + fixed[t, o] + delta[t]·sums[o]) +
     * constant[o]) / divisor, tokens in x's rows (tokensInRows) or in its columns. rstd and delta hold one value per
     * token, sums and constant one per other index; fixed has x's shape, or is null where x holds it already.
     * (Divided, as attention scores are.)
     */
    void foldLayerNorm(Parallel p, Matrix x, Matrix fixed, float[] rstd, float[] delta, float[] sums, float[] constant,
                       float divisor, boolean tokensInRows);

    /**
     * Probabilities summed per coordinate of a grid, each times its token's weight: the factored cross-attention's
     * weighing of one-hot design rows, without forming them. probs [rows, n] has tokens in its columns, token i at
     * position first + i of a row-major grid whose last axis has line coordinates. With w = probs[r, i]·weight[i],
     * along[r, j] is the sum of w over the tokens at coordinate j of the last axis (along [rows, line]) and, unless
     * lines is null, lines[r, l] the sum over the tokens of the l-th grid line they touch ([rows, lines touched]).
     */
    void gridSums(Parallel p, Matrix probs, float[] weight, int first, int line, Matrix along, Matrix lines);

    /** Grid lines of line tokens each that tokens [first, first + n) touch: {@link #gridSums}'s lines' columns. */
    static int gridLines(int first, int n, int line) {
        return n == 0 ? 0 : (first + n - 1) / line - first / line + 1;
    }

    /**
     * Multi-head attention. q is nq x (heads·dqk), k is nk x (heads·dqk), v is nk x (heads·dv), out nq x (heads·dv).
     * Head h uses columns [h·dqk, (h+1)·dqk) of q and k and [h·dv, (h+1)·dv) of v and out. Scores are
     * q_h·k_hᵀ / sqrt(dqk), plus maskBias (1 x nk, or null) on every row, then softmax over keys.
     * If probs (heads·nq x nk, head-major) is non-null the probabilities are stored there too.
     */
    default void attention(Parallel p, Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out,
                           Matrix probs, SegmentAllocator scratch) {
        attention(p, q, k, v, heads, maskBias, out, probs, null, scratch);
    }

    /**
     * {@link #attention} that also stores, if lse (heads·nq x 1, head-major) is non-null, each row's
     * log Σ_j e^{score_j}: what {@link #mergeAttention} needs to combine outputs over separate blocks of keys, so a
     * caller can attend to a key set too long to hold at once.
     */
    void attention(Parallel p, Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out, Matrix probs,
                   Matrix lse, SegmentAllocator scratch);

    /**
     * Folds the attention output of one more block of keys (block, with its log-sum-exps blockLse) into the output
     * over the keys so far (acc, accLse), both nq x (heads·dv): each is weighted by its share of the softmax's
     * denominator, which gives exactly the attention over all the keys. accLse starts at -∞.
     */
    default void mergeAttention(Parallel p, Matrix acc, Matrix accLse, Matrix block, Matrix blockLse, int heads) {
        int nq = acc.rows(), dv = acc.cols() / heads;
        Matrix.requireShape(block, nq, acc.cols(), "attention block");
        Matrix.requireShape(accLse, heads * nq, 1, "attention log-sum-exp");
        Matrix.requireShape(blockLse, heads * nq, 1, "attention block log-sum-exp");
        // Rows through arrays: element access through segments compiled to far more code (C2 took ~90 ms over it).
        p.forRange(heads * nq, 16, (i0, i1) -> {
            float[] x = new float[dv], y = new float[dv];
            for (int i = i0; i < i1; i++) {
                int h = i / nq, row = i % nq;
                double a = accLse.get(i, 0), b = blockLse.get(i, 0);
                double total = Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
                if (Double.isInfinite(total) && total < 0) continue;  // no keys yet on either side
                float wa = (float) Math.exp(a - total), wb = (float) Math.exp(b - total);
                Matrix accRow = acc.row(row).cols(h * dv, (h + 1) * dv);
                accRow.copyRow(0, x, 0);
                block.row(row).cols(h * dv, (h + 1) * dv).copyRow(0, y, 0);
                for (int d = 0; d < dv; d++) x[d] = x[d] * wa + y[d] * wb;
                accRow.setRow(0, x, 0);
                accLse.set(i, 0, (float) total);
            }
        });
    }

    /**
     * 2-D convolution of one channels-first image (c x h·w) with a kernel packed from its [o][c·kh·kw] weight,
     * zero padding on each side, into channels-last output ((oh·ow) x o). Runs as im2col plus {@link #gemm}.
     */
    default void conv2d(Parallel p, Matrix image, int h, int w, PackedMatrix weight, int kh, int kw, int stride,
                        int padTop, int padLeft, int padBottom, int padRight, Epilogue epilogue, Matrix out,
                        SegmentAllocator scratch) {
        int c = image.rows();
        int oh = (h + padTop + padBottom - kh) / stride + 1;
        int ow = (w + padLeft + padRight - kw) / stride + 1;
        if (image.cols() != h * w) throw new IllegalArgumentException("image has " + image.cols() + " pixels, not " + h + "x" + w);
        if (weight.k() != c * kh * kw)
            throw new IllegalArgumentException("kernel expects " + weight.k() + " inputs, image gives " + c * kh * kw);
        Matrix.requireShape(out, oh * ow, weight.n(), "conv2d output");
        Matrix cols = Matrix.of(scratch.allocate((long) oh * ow * c * kh * kw * Float.BYTES, 64), 0, oh * ow, c * kh * kw);
        p.forRange(oh, 1, (y0, y1) -> {
            for (int oy = y0; oy < y1; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    int row = oy * ow + ox, col = 0;
                    for (int ch = 0; ch < c; ch++)
                        for (int ky = 0; ky < kh; ky++) {
                            int iy = oy * stride + ky - padTop;
                            for (int kx = 0; kx < kw; kx++, col++) {
                                int ix = ox * stride + kx - padLeft;
                                boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                                cols.set(row, col, inside ? image.get(ch, iy * w + ix) : 0f);
                            }
                        }
                }
        });
        gemm(p, cols, weight, out, epilogue);
    }

    /** Max pooling without padding (floor mode) on a channels-last image ((h·w) x c) into ((oh·ow) x c). */
    default void maxPool2d(Parallel p, Matrix x, int h, int w, int kernel, int stride, Matrix out) {
        int oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1, c = x.cols();
        Matrix.requireShape(out, oh * ow, c, "maxPool2d output");
        p.forRange(oh, 1, (y0, y1) -> {
            for (int oy = y0; oy < y1; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ch = 0; ch < c; ch++) {
                        float m = Float.NEGATIVE_INFINITY;
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++) {
                                float v = x.get((oy * stride + ky) * w + ox * stride + kx, ch);
                                if (v > m || Float.isNaN(v)) m = v;
                            }
                        out.set(oy * ow + ox, ch, m);
                    }
        });
    }

    /** The scalar reference kernels. */
    static Kernels scalar() {
        return ScalarKernels.INSTANCE;
    }

    /**
     * The fastest kernels this JVM can run: the Vector API ones, or the scalar ones with a logged reason. The first
     * call starts warming the vector kernels up in the background (about 1-2 s of one core, once per JVM).
     */
    static Kernels best() {
        return select(KernelChoice.AUTO);
    }

    /** The kernels for choice: {@link #best()} for AUTO, {@link #scalar()} for SCALAR, the vector ones for VECTOR. */
    static Kernels select(KernelChoice choice) {
        return KernelSelection.select(choice);
    }

    /**
     * Waits until the vector kernels a selection returned are compiled by the JIT (or their warm-up gave up), so that
     * the first pass runs at full speed: a model's load ends with this. Returns at once if none were selected.
     */
    static void awaitWarmUp() {
        KernelSelection.awaitWarmUp();
    }
}
