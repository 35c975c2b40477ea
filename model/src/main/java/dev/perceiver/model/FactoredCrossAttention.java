package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.PackedMatrix;
import dev.perceiver.ops.Parallel;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The encoder's cross-attention, computed without projecting the parts of the input that never change.
 *
 * <p>Its queries are the latents' (the same every pass), and most input channels are fixed for a given input
 * layout: position features, padding, mask tokens. For a token x = [v ‖ f] with v varying and f fixed, and G = γ⊙W
 * (layernorm2's scale folded into the key or value weight):
 * <pre>
 *   LN(x)·Wᵀ + b = rstd·((v − μ)·G_vᵀ + P + (m_f − μ)·s_f) + c0
 * </pre>
 * where P = (f − m_f)·G_fᵀ, m_f is the mean of f, s_f the column sums of G_f and c0 = β·Wᵀ + b: everything but the
 * first term is computed once per layout. The scores q·kᵀ take the same form with Q·Pᵀ precomputed, so a pass
 * multiplies only the varying channels (3 pixel values of the Fourier model, 16 audio samples or 48 pixel values per
 * multimodal token) instead of all of them. The values are built the same way, then weighted by the probabilities
 * as usual; or, where that costs fewer multiply-adds (see {@link #weighInputs}), the probabilities weigh the
 * normalised inputs first and the value weight comes after: Σ_n p_n·LN(x_n)·Wᵀ = (Σ_n p_n·LN(x_n))·Wᵀ, which skips
 * the product of the varying channels and the table of the values' fixed part (103 MB for vision-learned's 50,176
 * tokens). On a Fourier grid the probabilities need not even weigh the fixed channels token by token: they are a sum
 * of per-axis features, so summing the probabilities per grid coordinate does (see {@link Segment}). Results agree
 * with the direct computation to rounding.
 */
final class FactoredCrossAttention {
    /** Precomputed scores Q·Pᵀ larger than this (in floats) are not worth their memory: the direct path runs. */
    static final long MAX_PRECOMPUTED_SCORES = 128L << 20;
    /**
     * Tokens at most: each has its fixed channels' statistics in Java arrays kept with the tables; past this the
     * direct path runs, whose buffers the scratch memory checks against the machine's memory.
     */
    static final int MAX_TOKENS = 1 << 24;
    private static final int CACHED_LAYOUTS = 2;

    private final PerceiverLayer layer;
    private final Matrix queries;
    /** G = γ⊙W for [key | value], [qk + v, C], and c0 = β·Wᵀ + b. */
    private final Matrix g;
    private final float[] c0;
    /** c0's value part: the constant of each value channel. */
    private final float[] valueConstant;
    /** γ and β of a layer norm that only normalises: G holds the real ones. */
    private final Matrix ones, zeros;
    private int tableBuilds;
    /** Items whose probabilities weighed the inputs (tests read it to see which form ran). */
    final LongAdder weighedPasses = new LongAdder();
    /** Each thread's packed values of one head and block, kept between passes instead of made anew for every one. */
    private final ThreadLocal<PackedMatrix> packedValues = new ThreadLocal<>();
    private final Map<Object, Tables> cache = new LinkedHashMap<>(4, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, Tables> e) {
            return size() > CACHED_LAYOUTS;
        }
    };

    FactoredCrossAttention(PerceiverLayer layer, Matrix queries, Arena arena) {
        this.layer = layer;
        this.queries = queries;
        Matrix gamma = layer.layernorm2.weight(), beta = layer.layernorm2.bias();
        int qk = layer.qkChannels, c = gamma.cols();
        this.g = Tensor.zeros(arena, qk + layer.vChannels, c).matrix();
        this.c0 = new float[qk + layer.vChannels];
        for (int o = 0; o < c0.length; o++) {
            Weights.Dense d = o < qk ? layer.key : layer.value;
            int row = o < qk ? o : o - qk;
            double bias = d.bias().get(0, row);
            for (int ch = 0; ch < c; ch++) {
                float w = d.weight().get(row, ch);
                g.set(o, ch, w * gamma.get(0, ch));
                bias += (double) beta.get(0, ch) * w;
            }
            c0[o] = (float) bias;
        }
        this.valueConstant = Arrays.copyOfRange(c0, qk, qk + layer.vChannels);
        this.zeros = Tensor.zeros(arena, 1, c).matrix();
        this.ones = Tensor.zeros(arena, 1, c).matrix();
        ones.fill(1f);
    }

    /**
     * Whether this layout has fixed channels to gain from, at most MAX_TOKENS tokens, and its precomputed tables fit
     * the budget: the fixed scores of its tokens off a Fourier grid (a grid's are per-axis tables, see
     * {@link Segment}), and, where the values are built rather than the inputs weighed, the values' fixed part.
     */
    boolean worthIt(InputLayout layout, int tokens) {
        int inputChannels = g.cols();
        boolean fixed = layout.segments().stream().anyMatch(s -> s.variable() < inputChannels);
        long tabled = layout.segments().stream().filter(s -> s.grid() == null).mapToLong(s -> s.end() - s.start()).sum();
        long valueTable = weighInputs(layout, inputChannels) ? 0 : (long) tokens * layer.vChannels;
        return fixed && tokens <= MAX_TOKENS && (long) layer.numHeads * queries.rows() * tabled <= MAX_PRECOMPUTED_SCORES
                && valueTable <= MAX_PRECOMPUTED_SCORES;
    }

    /**
     * What is computed once per layout. Each segment's arrays are indexed by token within the whole input: fixedMean
     * and fixedSquares are each token's fixed channels' mean m_f and Σ(f − m_f)². With valueG (per head, the weights
     * that turn the weighed inputs of every segment into values, see {@link Segment}), the probabilities weigh the
     * inputs, weighWidth columns a head, and there are no values nor valuesFixed; without it, valuesFixed holds the
     * values' fixed part.
     */
    private record Tables(List<Segment> segments, Matrix valuesFixed, PackedMatrix[] valueG, int weighWidth,
                          Matrix valueBias, float[] fixedMean, float[] fixedSquares, float[][] queryFixedSum,
                          float[] queryConstant) {}

    /**
     * A segment's varying-channel weights: gV packs G's value rows for the value product, queryG the per-head
     * Q·G_vᵀ [heads·nq, variable] for the score product, valueSums the fixed columns' sums s_f of G's value rows.
     * Its fixed scores Q·Pᵀ are a table [heads·nq, tokens] (scoresFixed), or, for a segment on a Fourier grid
     * ({@link InputLayout.Segment#grid}), the sum of per-axis tables, axisScores[j][heads·nq row][coordinate], and
     * constantScores of the channels after the grid (see {@link #gridScores}): 784 x (16 + 56 + 56) floats for the
     * multimodal video instead of 784 x 50,176.
     *
     * <p>Where the probabilities weigh the inputs, a segment's tokens are weighed in columns [weighOffset,
     * weighOffset + weighWidth) of each head's: their normalised rows (weighWidth = C), or, where the layout knows
     * every fixed channel and that costs less ({@link #byDesign}), a token's design row d = rstd·[v ‖ 1 ‖ μ ‖ one-hot
     * of each grid coordinate], since LN(x) = d·B for B = [I ‖ the constants ‖ −1 ‖ each axis's features]: the
     * probabilities then sum per grid coordinate instead of weighing the grid's features token by token (two adds a
     * token instead of C multiply-adds; 178 columns for the multimodal video's 704, 453 for vision-fourier's 261, of
     * which only v, 1 and μ are multiplied), and B·G_vᵀ, part of valueG, turns them into values.
     */
    private record Segment(InputLayout.Segment span, PackedMatrix gV, Matrix queryG, float[] valueSums,
                           Matrix scoresFixed, float[][][] axisScores, float[] constantScores, int weighOffset,
                           int weighWidth) {}

    /** Coordinates of all a segment's grid axes together (0 without a grid): its design rows' one-hot columns. */
    private static int gridCoordinates(InputLayout.Segment s) {
        return s.grid() == null ? 0 : Arrays.stream(s.grid().dims()).sum();
    }

    /**
     * Whether a segment is weighed as design rows (see {@link Segment}): the layout knows it and weighing them costs
     * less than weighing C channels a token.
     */
    private static boolean byDesign(InputLayout.Segment s, int c) {
        return s.knowsFixed() && designCost(s) < c;
    }

    /**
     * Operations a token and query of weighing design rows: a multiply-add for each dense column (v, 1, μ), and the
     * grid sums' two adds (the coordinate columns are never multiplied: see {@link #weighSegment}).
     */
    private static int designCost(InputLayout.Segment s) {
        return s.variable() + 2 + (s.grid() == null ? 0 : 2);
    }

    /** Columns a segment's tokens are weighed in: its design rows' or the input's C channels. */
    private static int weighWidth(InputLayout.Segment s, int c) {
        return byDesign(s, c) ? s.variable() + 2 + gridCoordinates(s) : c;
    }

    /**
     * Batch item b of x, ctx [nq, v] its heads' output, probs [heads·nq, N] or null. The tokens are taken a block at a
     * time (see {@link #blockTokens}), their softmax merged exactly across blocks, so a pass never holds the scores or
     * values of the whole input, nor its whole rows where x keeps only the varying channels; with probs, in one block.
     */
    void attend(Run run, EncoderInput x, int b, Matrix maskBias, Matrix ctx, Matrix probs) {
        Tables t = tables(run, x);
        Kernels k = run.kernels();
        Parallel p = run.parallel();
        int n = x.tokens(), c = x.channels(), heads = layer.numHeads, nq = queries.rows(), v = layer.vChannels;
        boolean weigh = t.valueG() != null;
        if (weigh) weighedPasses.increment();
        // What the probabilities weigh, a head's columns of it: its values, or the inputs in each segment's form.
        int width = weigh ? t.weighWidth() : v / heads;
        int block = probs != null ? n : blockTokens(weigh ? c : v);
        Matrix acc = weigh ? run.matrix(nq, heads * width) : ctx, lse = run.matrix(heads * nq, 1);
        // Weighing, a block writes only its segments' columns: the others stay zero, in acc and in the one buffer the
        // later blocks share, whose columns of a segment are cleared again once it has ended.
        Matrix later = weigh && block < n ? run.matrix(nq, heads * width) : null;
        if (weigh) acc.fill(0f);
        if (later != null) later.fill(0f);
        List<Segment> segments = t.segments();
        for (int k0 = 0; k0 < n; k0 += block) {
            int k1 = Math.min(n, k0 + block);
            long mark = run.scratch().mark();
            if (block < n) layer.keyBlocks.increment();
            float[] mean = new float[k1 - k0], rstd = new float[k1 - k0];
            Matrix scores = run.matrix(heads * nq, k1 - k0), values = weigh ? null : run.matrix(k1 - k0, v);
            for (int si = 0; si < segments.size(); si++) {
                InputLayout.Segment span = segments.get(si).span();
                int a = Math.max(k0, span.start()), e = Math.min(k1, span.end());
                if (a >= e) continue;
                tokenStats(run, t, x, b, si, a, e, mean, rstd, k0);
                blockScoresAndValues(run, t, si, x.varying(b, si), mean, rstd, k0, a, e, scores.cols(a - k0, e - k0),
                        weigh ? null : values.rows(a - k0, e - k0));
            }
            boolean first = k0 == 0;
            Matrix out = first ? acc : weigh ? later : run.matrix(nq, heads * width);
            Matrix outLse = first ? lse : run.matrix(heads * nq, 1);
            k.softmaxRows(p, scores, maskBias == null ? null : maskBias.cols(k0, k1), outLse);
            if (probs != null) probs.copyFrom(scores);
            if (weigh) {
                for (int si = 0; si < segments.size(); si++) weighSegment(run, t, x, b, si, k0, k1, mean, rstd, scores, out);
            } else {
                for (int h = 0; h < heads; h++) {
                    packedValues.set(k.pack(values.cols(h * width, (h + 1) * width), packedValues.get()));
                    k.gemm(p, scores.rows(h * nq, (h + 1) * nq), packedValues.get(),
                            out.cols(h * width, (h + 1) * width), Epilogue.NONE);
                }
            }
            if (!first) k.mergeAttention(p, acc, lse, out, outLse, heads);
            for (Segment s : segments)
                if (!first && weigh && s.span().end() > k0 && s.span().end() <= k1)
                    for (int h = 0; h < heads; h++)
                        out.cols(h * width + s.weighOffset(), h * width + s.weighOffset() + s.weighWidth()).fill(0f);
            run.scratch().release(mark);
        }
        if (weigh) {
            int dv = v / heads;
            for (int h = 0; h < heads; h++)
                k.gemm(p, acc.cols(h * width, (h + 1) * width), t.valueG()[h], ctx.cols(h * dv, (h + 1) * dv),
                        Epilogue.bias(t.valueBias().cols(h * dv, (h + 1) * dv)));
        }
    }

    /**
     * The mean and rstd of layernorm2 of tokens [a, e) of segment si into mean and rstd (indexed from token k0): where
     * x keeps only the varying channels, from them and the fixed channels' m_f and Σ(f − m_f)², else from the whole
     * rows, as layernorm2 computes them.
     */
    private void tokenStats(Run run, Tables t, EncoderInput x, int b, int si, int a, int e, float[] mean, float[] rstd,
                            int k0) {
        InputLayout.Segment span = t.segments().get(si).span();
        if (!x.fromVarying()) {  // whole rows are views: nothing to build
            float[] m = new float[e - a], r = new float[e - a];
            run.kernels().layerNormStats(run.parallel(), x.rows(run, b, a, e), PerceiverConfig.LAYER_NORM_EPS, m, r);
            System.arraycopy(m, 0, mean, a - k0, e - a);
            System.arraycopy(r, 0, rstd, a - k0, e - a);
        } else {
            Matrix varying = x.varying(b, si);
            int vc = span.variable(), c = x.channels(), start = span.start();
            float[] fixedMean = t.fixedMean(), fixedSquares = t.fixedSquares();
            run.parallel().forRange(e - a, 256, (r0, r1) -> {
                float[] row = new float[Math.max(1, vc)];
                for (int n = a + r0; n < a + r1; n++) {
                    // Σ over all channels of (x − m_f) and its square: the varying ones' here, the fixed ones' kept.
                    double mf = fixedMean[n], s1 = 0, s2 = fixedSquares[n];
                    if (vc > 0) varying.copyRow(n - start, row);
                    for (int ch = 0; ch < vc; ch++) {
                        double d = row[ch] - mf;
                        s1 += d;
                        s2 += d * d;
                    }
                    double shift = s1 / c, var = Math.max(0, s2 / c - shift * shift);
                    mean[n - k0] = (float) (mf + shift);
                    rstd[n - k0] = (float) (1 / Math.sqrt(var + PerceiverConfig.LAYER_NORM_EPS));
                }
            });
        }
    }

    /**
     * Segment si's tokens of the key block [k0, k1), weighed by their probabilities (scores after the softmax), into
     * its columns of every head's in out, if the block has any of them.
     */
    private void weighSegment(Run run, Tables t, EncoderInput x, int b, int si, int k0, int k1, float[] mean,
                              float[] rstd, Matrix probs, Matrix out) {
        Kernels k = run.kernels();
        Parallel p = run.parallel();
        Segment s = t.segments().get(si);
        InputLayout.Segment span = s.span();
        int heads = layer.numHeads, nq = queries.rows(), w = t.weighWidth(), off = s.weighOffset(), sw = s.weighWidth();
        int a = Math.max(k0, span.start()), e = Math.min(k1, span.end());
        if (a >= e) return;
        long mark = run.scratch().mark();
        boolean byDesign = byDesign(span, x.channels());
        // By design, the product takes the dense columns only; the grid sums fill the coordinates' after them.
        int dense = byDesign ? span.variable() + 2 : sw;
        Matrix design = run.matrix(e - a, dense);
        if (byDesign) designRows(run, span, x.varying(b, si), a, e, mean, rstd, k0, design);
        else k.layerNorm(p, x.rows(run, b, a, e), ones, zeros, PerceiverConfig.LAYER_NORM_EPS, design);
        packedValues.set(k.pack(design, packedValues.get()));
        FourierPositionEncoding.Grid grid = byDesign ? span.grid() : null;
        float[] tokenRstd = Arrays.copyOfRange(rstd, a - k0, e - k0);
        for (int h = 0; h < heads; h++) {
            Matrix headProbs = probs.rows(h * nq, (h + 1) * nq).cols(a - k0, e - k0);
            Matrix headOut = out.cols(h * w + off, h * w + off + sw);
            k.gemm(p, headProbs, packedValues.get(), headOut.cols(0, dense), Epilogue.NONE);
            if (grid != null) gridSums(run, grid, headProbs, tokenRstd, a - span.start(), headOut.cols(dense, sw));
        }
        run.scratch().release(mark);
    }

    /**
     * The one-hot coordinate columns of the design rows of tokens [first, first + probs.cols()) of a grid, weighed by
     * probs, into out [nq, the grid's coordinates]: the last axis's sums straight from {@link Kernels#gridSums}, each
     * other axis's from the sums of the grid lines, a line being one coordinate of each.
     */
    private static void gridSums(Run run, FourierPositionEncoding.Grid grid, Matrix probs, float[] rstd, int first,
                                 Matrix out) {
        int[] dims = grid.dims();
        int last = dims.length - 1, line = dims[last], lastAt = out.cols() - line, nq = probs.rows();
        int touched = Kernels.gridLines(first, probs.cols(), line);
        Matrix lines = last > 0 ? run.matrix(nq, touched) : null;
        run.kernels().gridSums(run.parallel(), probs, rstd, first, line, out.cols(lastAt, out.cols()), lines);
        if (lines == null) return;
        float[] sums = new float[touched], row = new float[lastAt];
        for (int q = 0; q < nq; q++) {
            lines.copyRow(q, sums);
            Arrays.fill(row, 0f);
            for (int l = 0; l < touched; l++)
                for (int j = last - 1, rest = first / line + l, at = lastAt; j >= 0; rest /= dims[j], j--) {
                    at -= dims[j];
                    row[at + rest % dims[j]] += sums[l];
                }
            out.cols(0, lastAt).setRow(q, row, 0);
        }
    }

    /**
     * Tokens [a, e) of a segment the layout knows, as the dense columns rstd·[v ‖ 1 ‖ μ] of their design rows (see
     * Segment; the one-hot coordinates after them are summed, not stored).
     */
    private static void designRows(Run run, InputLayout.Segment span, Matrix varying, int a, int e, float[] mean,
                                   float[] rstd, int k0, Matrix design) {
        int vc = span.variable(), start = span.start();
        run.parallel().forRange(e - a, 64, (r0, r1) -> {
            float[] row = new float[vc + 2];
            for (int n = a + r0; n < a + r1; n++) {
                float r = rstd[n - k0];
                if (vc > 0) varying.copyRow(n - start, row);
                for (int ch = 0; ch < vc; ch++) row[ch] *= r;
                row[vc] = r;
                row[vc + 1] = r * mean[n - k0];
                design.setRow(n - a, row, 0);
            }
        });
    }

    /** Tokens a block of {@link #attend} takes: its scores and what they weigh together within the key-block budget. */
    private int blockTokens(int weighedWidth) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE,
                layer.keyBlockFloats / ((long) layer.numHeads * queries.rows() + weighedWidth)));
    }

    /**
     * Whether the probabilities weigh the normalised inputs, then the value weight applies, rather than weigh values
     * built from the varying channels and the fixed table: whichever takes fewer multiply-adds for this layout, heads,
     * queries and widths.
     */
    private boolean weighInputs(InputLayout layout, int c) {
        long nq = queries.rows(), v = layer.vChannels, heads = layer.numHeads, n = 0, values = 0, weighed = 0, width = 0;
        for (InputLayout.Segment s : layout.segments()) {
            long tokens = s.end() - s.start(), w = weighWidth(s, c);
            n += tokens;
            values += tokens * s.variable() * v;
            weighed += tokens * heads * nq * (byDesign(s, c) ? designCost(s) : c);
            width += w;
        }
        long project = values + n * nq * v, weigh = weighed + nq * width * v;
        return weigh < project;
    }

    /**
     * Scaled scores [heads·nq, b - a] and values [b - a, v] (unless null) of tokens [a, b), all of segment si, whose
     * varying channels are varying [segment's tokens, variable]: their products plus the segment's precomputed fixed
     * parts, normalised as layernorm2 would with the tokens' mean and rstd (indexed from token k0).
     */
    private void blockScoresAndValues(Run run, Tables t, int si, Matrix varying, float[] mean, float[] rstd, int k0,
                                      int a, int b, Matrix scores, Matrix values) {
        Kernels k = run.kernels();
        Parallel p = run.parallel();
        Segment s = t.segments().get(si);
        int qk = layer.qkChannels, heads = layer.numHeads, nq = queries.rows();
        int vc = s.span().variable(), start = s.span().start();
        // A grid's fixed scores go into scores first and the varying channels' products add to them (the fold then
        // has no fixed part to read): a separate matrix of them cost a write and a read of every score.
        boolean grid = s.scoresFixed() == null;
        if (grid) gridScores(run, s, a, b, scores);
        if (vc > 0) {
            long mark = run.scratch().mark();
            Matrix centered = run.matrix(b - a, vc);
            center(varying.rows(a - start, b - start), mean, a - k0, centered);
            if (values != null) k.gemm(p, centered, s.gV(), values, Epilogue.NONE);
            PackedMatrix centeredT = k.packTransposed(centered);
            for (int h = 0; h < heads; h++) {
                Matrix headScores = scores.rows(h * nq, (h + 1) * nq);
                k.gemm(p, s.queryG().rows(h * nq, (h + 1) * nq), centeredT, headScores,
                        grid ? Epilogue.NONE.withResidual(headScores) : Epilogue.NONE);
            }
            run.scratch().release(mark);
        } else {
            if (values != null) values.fill(0f);
            if (!grid) scores.fill(0f);
        }
        float[] delta = difference(t.fixedMean(), a, mean, a - k0, b - a);
        float[] tokenRstd = Arrays.copyOfRange(rstd, a - k0, b - k0);
        if (values != null)
            k.foldLayerNorm(p, values, t.valuesFixed().rows(a, b), tokenRstd, delta, s.valueSums(), valueConstant, 1f, true);
        float scale = (float) Math.sqrt(qk / heads);
        // A grid's fixed scores leave m_f·Q·s_f out (see gridScores): the fold takes the token's whole mean off instead.
        float[] scoreDelta = grid ? difference(null, 0, mean, a - k0, b - a) : delta;
        k.foldLayerNorm(p, scores, grid ? null : s.scoresFixed().cols(a - start, b - start), tokenRstd, scoreDelta,
                t.queryFixedSum()[si], t.queryConstant(), scale, false);
    }

    /** x[xFrom + i] − y[yFrom + i] for i < n, x null meaning zeros (a loop of its own, as {@link #center}). */
    private static float[] difference(float[] x, int xFrom, float[] y, int yFrom, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (x == null ? 0f : x[xFrom + i]) - y[yFrom + i];
        return out;
    }

    /**
     * Rows of x minus their token's mean (mean[from + row]) into out. A loop of its own: inside its caller, it had C2
     * compile the whole caller on-stack (~0.2 s of compilation during a multimodal first pass).
     */
    private static void center(Matrix x, float[] mean, int from, Matrix out) {
        // Row copies and an array loop: per-element segment reads ran ~0.5 s interpreted in a first pass.
        float[] row = new float[x.cols()];
        for (int r = 0; r < x.rows(); r++) {
            x.copyRow(r, row);
            for (int ch = 0; ch < row.length; ch++) row[ch] -= mean[from + r];
            out.setRow(r, row, 0);
        }
    }

    /**
     * Builds the tables of layout, from one input x of it, unless they are cached, and attends over x once, its result
     * dropped: the pass's block buffers (~17 MB for the multimodal video, fresh memory faulting in at ~0.4 GB/s on a
     * VM), its thread's packed-values array and the code around the kernels are then touched and compiled before the
     * first pass, which had spent 0.3-0.5 s more here than later ones.
     */
    void prepare(Run run, EncoderInput x) {
        attend(run, x, 0, null, run.matrix(queries.rows(), layer.vChannels), null);
    }

    synchronized int tableBuilds() {
        return tableBuilds;
    }

    private synchronized Tables tables(Run run, EncoderInput x) {
        Tables t = cache.get(x.layout().key());
        if (t == null) {
            t = precompute(run, x);
            tableBuilds++;
            cache.put(x.layout().key(), t);
        }
        return t;
    }

    /** The fixed channels' contributions, from one input of this layout (their values are the same in every input). */
    private Tables precompute(Run run, EncoderInput x) {
        Arena arena = Arena.ofAuto();
        Kernels k = run.kernels();
        Parallel p = run.parallel();
        InputLayout layout = x.layout();
        int n = x.tokens(), c = x.channels(), qk = layer.qkChannels, v = layer.vChannels, heads = layer.numHeads;
        int nq = queries.rows(), dqk = qk / heads, dv = v / heads;
        boolean weigh = weighInputs(layout, c);
        Matrix valuesFixed = weigh ? null : Run.zeros(arena, n, v).matrix();
        float[] fixedMean = new float[n], fixedSquares = new float[n];
        List<Segment> segments = new java.util.ArrayList<>();
        int weighWidth = 0;
        float[][] queryFixedSum = new float[layout.segments().size()][];
        int block = blockTokens(v);
        for (InputLayout.Segment span : layout.segments()) {
            int start = span.start(), end = span.end(), vc = span.variable(), fc = c - vc;
            Matrix scoresFixed = span.grid() == null ? Run.zeros(arena, heads * nq, end - start).matrix() : null;
            // Q·Pᵀ as (Q·G_f)·(f − m_f)ᵀ: fc multiply-adds a score instead of dqk + qk·fc / (heads·nq) for
            // the keys P = (f − m_f)·G_fᵀ first (vision-learned's table: 13 GFLOP instead of 79). Values stay P's, a
            // block of the segment's tokens at a time.
            Matrix queryKeyG = fc > 0 ? queryTimesG(run, arena, vc, c) : null;
            PackedMatrix valueG = fc > 0 && !weigh ? k.packTransposed(g.rows(qk, qk + v).cols(vc, c)) : null;
            for (int k0 = start; k0 < end; k0 += block) {
                int k1 = Math.min(end, k0 + block);
                long mark = run.scratch().mark();
                boolean product = scoresFixed != null || !weigh;  // else only the fixed means are needed
                if (fc > 0) {
                    Matrix rows = x.rows(run, 0, k0, k1), centered = product ? run.matrix(k1 - k0, fc) : null;
                    float[] row = new float[c];
                    for (int r = k0; r < k1; r++) {
                        rows.copyRow(r - k0, row);
                        double s = 0;
                        for (int ch = vc; ch < c; ch++) s += row[ch];
                        fixedMean[r] = (float) (s / fc);
                        double squares = 0;
                        for (int ch = vc; ch < c; ch++) {
                            row[ch] -= fixedMean[r];
                            squares += (double) row[ch] * row[ch];
                        }
                        fixedSquares[r] = (float) squares;
                        if (product) centered.setRow(r - k0, row, vc);
                    }
                    if (scoresFixed != null)
                        k.gemm(p, queryKeyG, k.packTransposed(centered), scoresFixed.cols(k0 - start, k1 - start),
                                Epilogue.NONE);
                    if (!weigh) k.gemm(p, centered, valueG, valuesFixed.rows(k0, k1), Epilogue.NONE);
                }
                run.scratch().release(mark);
            }
            float[][][] axisScores = null;
            float[] constantScores = null;
            if (span.grid() != null) {
                // f = Σ_j F_j[c_j] + const (the grid's axes and the padding after it, on disjoint channels), so
                // Q·(f·G_fᵀ)ᵀ sums one table per axis and the constant's (m_f·Q·s_f: see gridScores).
                FourierPositionEncoding.Grid grid = span.grid();
                int[] dims = grid.dims();
                axisScores = new float[dims.length][][];
                for (int j = 0; j <= dims.length; j++) {
                    int rows = j < dims.length ? dims[j] : 1;
                    long mark = run.scratch().mark();
                    Matrix f = run.matrix(rows, fc), scores = run.matrix(heads * nq, rows);
                    f.fill(0f);
                    for (int r = 0; r < rows; r++) {
                        if (j < dims.length) f.row(r).cols(0, grid.channels()).setRow(0, grid.axisRow(j, r), 0);
                        else f.row(r).cols(grid.channels(), fc).setRow(0, span.constants(), 0);
                    }
                    k.gemm(p, queryKeyG, k.packTransposed(f), scores, Epilogue.NONE);
                    float[][] table = new float[heads * nq][rows];
                    for (int hq = 0; hq < heads * nq; hq++) scores.copyRow(hq, table[hq]);
                    if (j < dims.length) axisScores[j] = table;
                    else {
                        constantScores = new float[heads * nq];
                        for (int hq = 0; hq < heads * nq; hq++) constantScores[hq] = table[hq][0];
                    }
                    run.scratch().release(mark);
                }
            }
            float[] sums = new float[qk + v];
            for (int o = 0; o < qk + v; o++) {
                double s = 0;
                for (int ch = vc; ch < c; ch++) s += g.get(o, ch);
                sums[o] = (float) s;
            }
            Matrix queryG = queryTimesG(run, arena, 0, vc);
            float[] qsum = new float[heads * nq];
            for (int h = 0; h < heads; h++) {
                Matrix qh = queries.cols(h * dqk, (h + 1) * dqk);
                // Q_h·s_f,h.
                for (int q = 0; q < nq; q++) {
                    double s = 0;
                    for (int d = 0; d < dqk; d++) s += (double) qh.get(q, d) * sums[h * dqk + d];
                    qsum[h * nq + q] = (float) s;
                }
            }
            queryFixedSum[segments.size()] = qsum;
            PackedMatrix gV = vc > 0 && !weigh ? k.packTransposed(g.rows(qk, qk + v).cols(0, vc)) : null;
            int w = weigh ? weighWidth(span, c) : 0;
            segments.add(new Segment(span, gV, queryG, Arrays.copyOfRange(sums, qk, qk + v), scoresFixed, axisScores,
                    constantScores, weighWidth, w));
            weighWidth += w;
        }
        float[] queryConstant = new float[heads * nq];
        for (int h = 0; h < heads; h++)
            for (int q = 0; q < nq; q++) {
                double s = 0;
                for (int d = 0; d < dqk; d++) s += (double) queries.get(q, h * dqk + d) * c0[h * dqk + d];
                queryConstant[h * nq + q] = (float) s;
            }
        PackedMatrix[] valueG = null;
        Matrix valueBias = null;
        if (weigh) {
            valueBias = Tensor.zeros(arena, 1, v).matrix();
            valueBias.setRow(0, valueConstant, 0);
            long mark = run.scratch().mark();
            // Each segment's B·G_vᵀ, one above the other: [weighWidth, v].
            Matrix weights = run.matrix(weighWidth, v);
            PackedMatrix valueWeight = k.packTransposed(g.rows(qk, qk + v));
            for (Segment s : segments) {
                long inner = run.scratch().mark();
                Matrix basis = run.matrix(s.weighWidth(), c);
                designBasis(s.span(), basis);
                k.gemm(p, basis, valueWeight, weights.rows(s.weighOffset(), s.weighOffset() + s.weighWidth()),
                        Epilogue.NONE);
                run.scratch().release(inner);
            }
            valueG = new PackedMatrix[heads];
            for (int h = 0; h < heads; h++) valueG[h] = k.pack(weights.cols(h * dv, (h + 1) * dv));
            run.scratch().release(mark);
        }
        return new Tables(segments, valuesFixed, valueG, weighWidth, valueBias, fixedMean, fixedSquares, queryFixedSum,
                queryConstant);
    }

    /**
     * B [weighWidth, C] of a segment, whose weighed rows times B are its weighed normalised inputs: the identity where
     * they are the normalised rows themselves, else [I ‖ the constants ‖ −1 ‖ each axis's features per coordinate],
     * the rows of a design row's columns rstd·[v ‖ 1 ‖ μ ‖ one-hot coordinates] (see {@link Segment}).
     */
    private static void designBasis(InputLayout.Segment span, Matrix basis) {
        int c = basis.cols(), vc = span.variable();
        basis.fill(0f);
        if (!byDesign(span, c)) {
            for (int ch = 0; ch < c; ch++) basis.set(ch, ch, 1f);
            return;
        }
        for (int ch = 0; ch < vc; ch++) basis.set(ch, ch, 1f);
        FourierPositionEncoding.Grid grid = span.grid();
        int gc = grid == null ? 0 : grid.channels(), row = vc + 2;
        basis.row(vc).cols(vc + gc, c).setRow(0, span.constants(), 0);
        basis.row(vc + 1).fill(-1f);
        if (grid != null) {
            int[] dims = grid.dims();
            for (int j = 0; j < dims.length; j++)
                for (int coord = 0; coord < dims[j]; coord++)
                    basis.row(row++).cols(vc, vc + gc).setRow(0, grid.axisRow(j, coord), 0);
        }
    }

    /**
     * Each head's queries times its rows of the keys' weight over input channels [c0, c1): Q_h·G_h[:, c0:c1] for head h
     * in rows [h·nq, (h + 1)·nq), a head's scores per unit of those channels.
     */
    private Matrix queryTimesG(Run run, Arena arena, int c0, int c1) {
        int heads = layer.numHeads, nq = queries.rows(), dqk = layer.qkChannels / heads;
        Matrix out = Tensor.zeros(arena, heads * nq, Math.max(1, c1 - c0)).matrix().cols(0, c1 - c0);
        if (c1 > c0)
            for (int h = 0; h < heads; h++)
                run.kernels().gemm(run.parallel(), queries.cols(h * dqk, (h + 1) * dqk),
                        run.kernels().pack(g.rows(h * dqk, (h + 1) * dqk).cols(c0, c1)), out.rows(h * nq, (h + 1) * nq),
                        Epilogue.NONE);
        return out;
    }

    /**
     * A grid segment's fixed scores of tokens [a, b) into out: Q·(f·G_fᵀ)ᵀ without the m_f·Q·s_f of P's centring,
     * summed from the per-axis tables a run of the last axis at a time (consecutive tokens, consecutive coordinates).
     * The fold takes that term off with the token's mean instead: one multiply-add less per score here made multimodal
     * passes ~4% faster in alternating JVMs.
     */
    private static void gridScores(Run run, Segment s, int a, int b, Matrix out) {
        int start = s.span().start();
        int[] dims = s.span().grid().dims();
        int last = dims.length - 1, rows = s.constantScores().length;
        float[][][] axes = s.axisScores();
        run.parallel().forRange(rows, 16, (r0, r1) -> {
            float[] row = new float[b - a];
            for (int hq = r0; hq < r1; hq++) {
                float[] lastAxis = axes[last][hq];
                for (int n = a; n < b; ) {
                    int i = n - start, c = i % dims[last], rest = i / dims[last];
                    float base = s.constantScores()[hq];
                    for (int j = last - 1; j >= 0; rest /= dims[j], j--) base += axes[j][hq][rest % dims[j]];
                    int runLength = Math.min(b - n, dims[last] - c);
                    for (int m = 0; m < runLength; m++) row[n - a + m] = lastAxis[c + m] + base;
                    n += runLength;
                }
                out.setRow(hq, row, 0);
            }
        });
    }
}
