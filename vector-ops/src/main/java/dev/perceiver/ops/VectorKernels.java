package dev.perceiver.ops;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.ByteOrder;

/**
 * Kernels on the JDK Vector API; each overrides its scalar twin in {@link ScalarKernels} and is tested against it.
 * Matrices must live in native memory (or byte[]-backed heap segments), as the Vector API requires.
 * Row kernels reduce in double like their twins; the products live in {@link VectorGemm} and {@link VectorAttention}.
 * The hot loops follow the rules in {@link VectorMath}: no own helpers passing vectors, masked access only at the end.
 */
public final class VectorKernels extends ScalarKernels {
    public static final VectorKernels INSTANCE = new VectorKernels();
    static final VectorSpecies<Float> F = VectorMath.F;
    private static final VectorSpecies<Double> D = VectorMath.D;
    private static final ByteOrder ORDER = VectorMath.ORDER;
    /** Elements per parallel chunk of a row kernel at least: below that a thread hand-off costs more than the work. */
    private static final int ROW_GRAIN_ELEMENTS = 16_384;

    private VectorKernels() {}

    @Override
    public String name() {
        return "vector (" + F.vectorBitSize() + "-bit FloatVector, " + F.length() + " lanes)";
    }

    @Override
    public void gemm(Parallel p, Matrix a, PackedMatrix b, Matrix c, Epilogue e) {
        checkGemm(a, b, c, e);
        VectorGemm.gemm(p, a, b, c, e);
    }

    @Override
    public void attention(Parallel p, Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out,
                          Matrix probs, Matrix lse, SegmentAllocator scratch) {
        VectorAttention.attention(p, q, k, v, heads, maskBias, out, probs, lse, scratch);
    }

    @Override
    public void layerNorm(Parallel p, Matrix x, Matrix gamma, Matrix beta, float eps, Matrix y) {
        Matrix.requireShape(y, x.rows(), x.cols(), "layerNorm output");
        Matrix.requireShape(gamma, 1, x.cols(), "layerNorm weight");
        Matrix.requireShape(beta, 1, x.cols(), "layerNorm bias");
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            for (int r = r0; r < r1; r++) layerNormRow(x, r, gamma, beta, eps, y);
        });
    }

    /** As the scalar twin: mean and variance summed in double, then ((x - mean)·rstd)·gamma + beta in float. */
    private static void layerNormRow(Matrix x, int r, Matrix gamma, Matrix beta, float eps, Matrix y) {
        int n = x.cols();
        long xo = x.index(r, 0) * Float.BYTES;
        float mean = (float) (rowSum(x.segment(), xo, n) / n);
        float rstd = (float) (1.0 / Math.sqrt(rowSquares(x.segment(), xo, n, mean) / n + eps));
        normalizeRow(x.segment(), xo, n, mean, rstd, gamma, beta, y.segment(), y.index(r, 0) * Float.BYTES);
    }

    private static double rowSum(MemorySegment xs, long xo, int n) {
        int end = F.loopBound(n);
        DoubleVector sum = DoubleVector.zero(D);
        for (int c = 0; c < end; c += F.length()) {
            FloatVector v = FloatVector.fromMemorySegment(F, xs, xo + c * 4L, ORDER);
            sum = sum.add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0))
                    .add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1));
        }
        if (end < n) {
            FloatVector v = FloatVector.fromMemorySegment(F, xs, xo + end * 4L, ORDER, F.indexInRange(end, n));
            sum = sum.add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0))
                    .add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1));
        }
        return VectorMath.sumInOrder(sum);
    }

    /** Σ (x - mean)² in double, x - mean rounded to float first as in the twin. */
    private static double rowSquares(MemorySegment xs, long xo, int n, float mean) {
        int end = F.loopBound(n);
        DoubleVector sq = DoubleVector.zero(D);
        for (int c = 0; c < end; c += F.length()) {
            FloatVector d = FloatVector.fromMemorySegment(F, xs, xo + c * 4L, ORDER).sub(mean);
            DoubleVector lo = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector hi = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 1);
            sq = lo.fma(lo, hi.fma(hi, sq));
        }
        if (end < n) {
            VectorMask<Float> m = F.indexInRange(end, n);
            FloatVector d = FloatVector.zero(F).blend(FloatVector.fromMemorySegment(F, xs, xo + end * 4L, ORDER, m).sub(mean), m);
            DoubleVector lo = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector hi = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 1);
            sq = lo.fma(lo, hi.fma(hi, sq));
        }
        return VectorMath.sumInOrder(sq);
    }

    private static void normalizeRow(MemorySegment xs, long xo, int n, float mean, float rstd, Matrix gamma, Matrix beta,
                                     MemorySegment ys, long yo) {
        MemorySegment gs = gamma.segment(), bs = beta.segment();
        long go = gamma.index(0, 0) * Float.BYTES, bo = beta.index(0, 0) * Float.BYTES;
        int end = F.loopBound(n);
        for (int c = 0; c < end; c += F.length()) {
            long o = c * 4L;
            FloatVector.fromMemorySegment(F, xs, xo + o, ORDER).sub(mean).mul(rstd)
                    .mul(FloatVector.fromMemorySegment(F, gs, go + o, ORDER))
                    .add(FloatVector.fromMemorySegment(F, bs, bo + o, ORDER)).intoMemorySegment(ys, yo + o, ORDER);
        }
        if (end < n) {
            long o = end * 4L;
            VectorMask<Float> m = F.indexInRange(end, n);
            FloatVector.fromMemorySegment(F, xs, xo + o, ORDER, m).sub(mean).mul(rstd)
                    .mul(FloatVector.fromMemorySegment(F, gs, go + o, ORDER, m))
                    .add(FloatVector.fromMemorySegment(F, bs, bo + o, ORDER, m)).intoMemorySegment(ys, yo + o, ORDER, m);
        }
    }

    @Override
    public void softmaxRows(Parallel p, Matrix x, Matrix maskBias) {
        if (maskBias != null) Matrix.requireShape(maskBias, 1, x.cols(), "softmax mask");
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            for (int r = r0; r < r1; r++) softmaxRow(x, r, maskBias);
        });
    }

    /** As the scalar twin: add the mask, subtract the row max, exponentiate, sum in double, scale by 1/sum. */
    private static void softmaxRow(Matrix x, int r, Matrix maskBias) {
        int n = x.cols();
        MemorySegment xs = x.segment();
        long xo = x.index(r, 0) * Float.BYTES;
        float max = maskAndMax(xs, xo, n, maskBias);
        float inv = (float) (1.0 / expAndSum(xs, xo, n, max));
        scaleRow(xs, xo, n, inv);
    }

    private static float maskAndMax(MemorySegment xs, long xo, int n, Matrix maskBias) {
        int end = F.loopBound(n);
        FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < end; c += F.length()) {
            FloatVector v = FloatVector.fromMemorySegment(F, xs, xo + c * 4L, ORDER);
            if (maskBias != null) {
                v = v.add(FloatVector.fromMemorySegment(F, maskBias.segment(), maskBias.index(0, c) * 4, ORDER));
                v.intoMemorySegment(xs, xo + c * 4L, ORDER);
            }
            max = max.max(v);
        }
        if (end < n) {
            VectorMask<Float> m = F.indexInRange(end, n);
            FloatVector v = FloatVector.fromMemorySegment(F, xs, xo + end * 4L, ORDER, m);
            if (maskBias != null) {
                v = v.add(FloatVector.fromMemorySegment(F, maskBias.segment(), maskBias.index(0, end) * 4, ORDER, m));
                v.intoMemorySegment(xs, xo + end * 4L, ORDER, m);
            }
            max = max.max(v.blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        return max.reduceLanes(VectorOperators.MAX);
    }

    /** x = e^{x - max} in place; returns the sum in double. */
    private static double expAndSum(MemorySegment xs, long xo, int n, float max) {
        int end = F.loopBound(n);
        for (int c = 0; c < end; c += F.length())
            FloatVector.fromMemorySegment(F, xs, xo + c * 4L, ORDER).sub(max).intoMemorySegment(xs, xo + c * 4L, ORDER);
        VectorMask<Float> m = F.indexInRange(end, n);
        if (end < n)
            FloatVector.fromMemorySegment(F, xs, xo + end * 4L, ORDER, m).sub(max).intoMemorySegment(xs, xo + end * 4L, ORDER, m);
        VectorMath.exp(xs, xo, n);
        DoubleVector sum = DoubleVector.zero(D);
        for (int c = 0; c < end; c += F.length()) {
            FloatVector e = FloatVector.fromMemorySegment(F, xs, xo + c * 4L, ORDER);
            sum = sum.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0))
                    .add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 1));
        }
        if (end < n) {
            FloatVector e = FloatVector.fromMemorySegment(F, xs, xo + end * 4L, ORDER, m);
            sum = sum.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0))
                    .add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 1));
        }
        return VectorMath.sumInOrder(sum);
    }

    private static void scaleRow(MemorySegment xs, long xo, int n, float s) {
        int end = F.loopBound(n);
        for (int c = 0; c < end; c += F.length())
            FloatVector.fromMemorySegment(F, xs, xo + c * 4L, ORDER).mul(s).intoMemorySegment(xs, xo + c * 4L, ORDER);
        if (end < n) {
            VectorMask<Float> m = F.indexInRange(end, n);
            FloatVector.fromMemorySegment(F, xs, xo + end * 4L, ORDER, m).mul(s).intoMemorySegment(xs, xo + end * 4L, ORDER, m);
        }
    }

    @Override
    public void activation(Parallel p, Matrix x, Activation act) {
        if (act == Activation.NONE) return;
        p.forRange(x.rows(), grain(x.cols()), (r0, r1) -> {
            for (int r = r0; r < r1; r++)
                VectorMath.activate(x.segment(), x.index(r, 0) * Float.BYTES, x.cols(), act);
        });
    }

    @Override
    public void add(Parallel p, Matrix a, Matrix b, Matrix out) {
        Matrix.requireShape(b, a.rows(), a.cols(), "add operand");
        Matrix.requireShape(out, a.rows(), a.cols(), "add output");
        int n = a.cols(), end = F.loopBound(n);
        p.forRange(a.rows(), grain(n), (r0, r1) -> {
            MemorySegment as = a.segment(), bs = b.segment(), os = out.segment();
            for (int r = r0; r < r1; r++) {
                long ao = a.index(r, 0) * Float.BYTES, bo = b.index(r, 0) * Float.BYTES, oo = out.index(r, 0) * Float.BYTES;
                for (int c = 0; c < end; c += F.length())
                    FloatVector.fromMemorySegment(F, as, ao + c * 4L, ORDER).add(FloatVector.fromMemorySegment(F, bs, bo + c * 4L, ORDER))
                            .intoMemorySegment(os, oo + c * 4L, ORDER);
                if (end < n) {
                    VectorMask<Float> m = F.indexInRange(end, n);
                    FloatVector.fromMemorySegment(F, as, ao + end * 4L, ORDER, m)
                            .add(FloatVector.fromMemorySegment(F, bs, bo + end * 4L, ORDER, m))
                            .intoMemorySegment(os, oo + end * 4L, ORDER, m);
                }
            }
        });
    }

    @Override
    public void scaleShift(Parallel p, Matrix x, Matrix scale, Matrix shift, Activation act) {
        Matrix.requireShape(scale, 1, x.cols(), "scale");
        Matrix.requireShape(shift, 1, x.cols(), "shift");
        int n = x.cols(), end = F.loopBound(n);
        p.forRange(x.rows(), grain(n), (r0, r1) -> {
            MemorySegment xs = x.segment(), ss = scale.segment(), hs = shift.segment();
            long so = scale.index(0, 0) * Float.BYTES, ho = shift.index(0, 0) * Float.BYTES;
            for (int r = r0; r < r1; r++) {
                long xo = x.index(r, 0) * Float.BYTES;
                for (int c = 0; c < end; c += F.length())
                    FloatVector.fromMemorySegment(F, xs, xo + c * 4L, ORDER)
                            .fma(FloatVector.fromMemorySegment(F, ss, so + c * 4L, ORDER), FloatVector.fromMemorySegment(F, hs, ho + c * 4L, ORDER))
                            .intoMemorySegment(xs, xo + c * 4L, ORDER);
                if (end < n) {
                    VectorMask<Float> m = F.indexInRange(end, n);
                    FloatVector.fromMemorySegment(F, xs, xo + end * 4L, ORDER, m)
                            .fma(FloatVector.fromMemorySegment(F, ss, so + end * 4L, ORDER, m),
                                    FloatVector.fromMemorySegment(F, hs, ho + end * 4L, ORDER, m))
                            .intoMemorySegment(xs, xo + end * 4L, ORDER, m);
                }
                VectorMath.activate(xs, xo, n, act);
            }
        });
    }

    private static int grain(int cols) {
        return Math.max(1, ROW_GRAIN_ELEMENTS / Math.max(1, cols));
    }
}
