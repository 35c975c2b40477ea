package dev.perceiver.ops;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The vector kernels give the same bits before and after the JIT compiles them. The Vector API runs Java code until
 * C2 takes over, and C2's intrinsics may round differently (SVML's e^x, tree-ordered lane sums); a kernel using such
 * an operation makes a model's output depend on warm-up and, through it, on the thread count. A child JVM with
 * {@code -Xint} computes every kernel interpreted; this JVM computes them again once C2 has compiled them.
 */
class CompiledEqualsInterpretedTest {

    @Test
    void everyVectorKernelGivesTheInterpretersBitsOnceCompiled() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-Xint", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), Fingerprint.class.getName())).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isZero();
        List<int[]> interpreted = Fingerprint.parse(out);

        List<int[]> compiled = null;
        for (int round = 0; round < 400; round++) compiled = Fingerprint.compute();
        assertThat(compiled).hasSameSizeAs(interpreted);
        for (int i = 0; i < compiled.size(); i++) {
            int at = Arrays.mismatch(compiled.get(i), interpreted.get(i));
            assertThat(at).as("%s: first differing element", Fingerprint.NAMES.get(i)).isEqualTo(-1);
        }
    }

    /** Every vector kernel on fixed random data, odd sizes; main prints the results' bits, a line per kernel. */
    static final class Fingerprint {
        static final List<String> NAMES = List.of("exp", "gemm+gelu", "layerNorm", "softmax", "attention",
                "attention probabilities", "attention (no probabilities)");

        static List<int[]> compute() {
            Kernels k = VectorKernels.INSTANCE;
            List<int[]> results = new ArrayList<>();
            try (TestMatrices t = new TestMatrices(7); Arena scratch = Arena.ofConfined()) {
                Matrix x = t.random(1, 1003);
                float[] e = x.toArray();
                for (int i = 0; i < 1003; i++) e[i] *= 100f;
                VectorMath.exp(e, 0, 1003);
                x.setRow(0, e, 0);
                results.add(bits(x));

                Matrix a = t.random(13, 37), w = t.random(29, 37), bias = t.random(1, 29), c = t.zeros(13, 29);
                k.gemm(Parallel.SERIAL, a, k.packTransposed(w), c, Epilogue.bias(bias).withActivation(Activation.GELU));
                results.add(bits(c));

                Matrix y = t.zeros(13, 37);
                k.layerNorm(Parallel.SERIAL, a, t.random(1, 37), t.random(1, 37), 1e-5f, y);
                results.add(bits(y));

                Matrix s = t.random(11, 45);
                t.fillRandom(s, 20f);
                k.softmaxRows(Parallel.SERIAL, s, t.random(1, 45));
                results.add(bits(s));

                Matrix q = t.random(21, 2 * 12), key = t.random(300, 2 * 12), v = t.random(300, 2 * 9);
                Matrix out = t.zeros(21, 2 * 9), probs = t.zeros(2 * 21, 300), plain = t.zeros(21, 2 * 9);
                k.attention(Parallel.SERIAL, q, key, v, 2, t.random(1, 300), out, probs, scratch);
                results.add(bits(out));
                results.add(bits(probs));
                k.attention(Parallel.SERIAL, q, key, v, 2, null, plain, null, scratch);
                results.add(bits(plain));
            }
            return results;
        }

        private static int[] bits(Matrix m) {
            float[] f = m.toArray();
            int[] b = new int[f.length];
            for (int i = 0; i < f.length; i++) b[i] = Float.floatToRawIntBits(f[i]);
            return b;
        }

        static List<int[]> parse(String text) {
            return text.lines().map(l -> l.isBlank() ? new int[0]
                    : Arrays.stream(l.trim().split(" ")).mapToInt(Integer::parseInt).toArray()).toList();
        }

        public static void main(String[] args) {
            StringBuilder sb = new StringBuilder();
            for (int[] r : compute()) {
                for (int v : r) sb.append(v).append(' ');
                sb.append('\n');
            }
            System.out.print(sb);
        }
    }
}
