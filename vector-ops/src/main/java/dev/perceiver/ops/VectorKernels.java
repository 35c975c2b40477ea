package dev.perceiver.ops;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * Kernels on the JDK Vector API; each overrides its scalar twin in {@link ScalarKernels} and is tested against it.
 * Matrices must live in native memory (or byte[]-backed heap segments), as the Vector API requires.
 * Row kernels reduce in double like their twins; the products live in {@link VectorGemm} and {@link VectorAttention}.
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
        return "vector (" + F.vectorBitSize() + "-bit FloatVector, " + F.length() + " lanes)";
    }

    @Override
    public void gemm(Parallel p, Matrix a, PackedMatrix b, Matrix c, Epilogue e) {
        checkGemm(a, b, c, e);
        VectorGemm.gemm(p, a, b, c, e);
    }

    @Override
    public void attention(Parallel p, Matrix q, Matrix k, Matrix v, int heads, Matrix maskBias, Matrix out,
                          Matrix probs, SegmentAllocator scratch) {
        VectorAttention.attention(p, q, k, v, heads, maskBias, out, probs, scratch);
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

    private static void layerNormRow(Matrix x, int r, Matrix gamma, Matrix beta, float eps, Matrix y) {
        int n = x.cols();
        MemorySegment xs = x.segment();
        DoubleVector sum = DoubleVector.zero(D);
        for (int c = 0; c < n; c += F.length())
            sum = sum.add(VectorMath.widenSum(VectorGemm.load(xs, x.index(r, c), F.indexInRange(c, n))));
        float mean = (float) (sum.reduceLanes(VectorOperators.ADD) / n);
        DoubleVector sq = DoubleVector.zero(D);
        for (int c = 0; c < n; c += F.length()) {
            VectorMask<Float> m = F.indexInRange(c, n);
            FloatVector d = FloatVector.zero(F).blend(VectorGemm.load(xs, x.index(r, c), m).sub(mean), m);
            DoubleVector lo = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector hi = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 1);
            sq = lo.fma(lo, hi.fma(hi, sq));
        }
        float rstd = (float) (1.0 / Math.sqrt(sq.reduceLanes(VectorOperators.ADD) / n + eps));
        for (int c = 0; c < n; c += F.length()) {
            VectorMask<Float> m = F.indexInRange(c, n);
            FloatVector v = VectorGemm.load(xs, x.index(r, c), m).sub(mean).mul(rstd)
                    .mul(VectorGemm.load(gamma.segment(), gamma.index(0, c), m))
                    .add(VectorGemm.load(beta.segment(), beta.index(0, c), m));
            VectorGemm.store(v, y.segment(), y.index(r, c), m);
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
        FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int c = 0; c < n; c += F.length()) {
            VectorMask<Float> m = F.indexInRange(c, n);
            FloatVector v = VectorGemm.load(xs, x.index(r, c), m);
            if (maskBias != null) {
                v = v.add(VectorGemm.load(maskBias.segment(), maskBias.index(0, c), m));
                VectorGemm.store(v, xs, x.index(r, c), m);
            }
            max = max.max(v.blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        float rowMax = max.reduceLanes(VectorOperators.MAX);
        DoubleVector sum = DoubleVector.zero(D);
        for (int c = 0; c < n; c += F.length()) {
            VectorMask<Float> m = F.indexInRange(c, n);
            FloatVector e = VectorMath.exp(VectorGemm.load(xs, x.index(r, c), m).sub(rowMax));
            VectorGemm.store(e, xs, x.index(r, c), m);
            sum = sum.add(VectorMath.widenSum(e.blend(0f, m.not())));
        }
        float inv = (float) (1.0 / sum.reduceLanes(VectorOperators.ADD));
        for (int c = 0; c < n; c += F.length()) {
            VectorMask<Float> m = F.indexInRange(c, n);
            VectorGemm.store(VectorGemm.load(xs, x.index(r, c), m).mul(inv), xs, x.index(r, c), m);
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
        int n = a.cols();
        p.forRange(a.rows(), grain(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++)
                for (int c = 0; c < n; c += F.length()) {
                    VectorMask<Float> m = F.indexInRange(c, n);
                    FloatVector v = VectorGemm.load(a.segment(), a.index(r, c), m).add(VectorGemm.load(b.segment(), b.index(r, c), m));
                    VectorGemm.store(v, out.segment(), out.index(r, c), m);
                }
        });
    }

    @Override
    public void scaleShift(Parallel p, Matrix x, Matrix scale, Matrix shift, Activation act) {
        Matrix.requireShape(scale, 1, x.cols(), "scale");
        Matrix.requireShape(shift, 1, x.cols(), "shift");
        int n = x.cols();
        p.forRange(x.rows(), grain(n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int c = 0; c < n; c += F.length()) {
                    VectorMask<Float> m = F.indexInRange(c, n);
                    FloatVector v = VectorGemm.load(x.segment(), x.index(r, c), m)
                            .fma(VectorGemm.load(scale.segment(), scale.index(0, c), m),
                                    VectorGemm.load(shift.segment(), shift.index(0, c), m));
                    VectorGemm.store(v, x.segment(), x.index(r, c), m);
                }
                VectorMath.activate(x.segment(), x.index(r, 0) * Float.BYTES, n, act);
            }
        });
    }

    private static int grain(int cols) {
        return Math.max(1, ROW_GRAIN_ELEMENTS / Math.max(1, cols));
    }
}
