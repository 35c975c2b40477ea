package dev.perceiver.ops;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Attention over a long key set taken a block at a time: the log-sum-exp each call reports (scalar and vector alike)
 * lets mergeAttention rebuild exactly the attention over all keys, masked keys and a fully masked block included.
 */
class AttentionBlocksTest {

    private static Matrix random(Arena arena, Random rnd, int rows, int cols) {
        Matrix m = Matrix.of(arena.allocate((long) Math.max(1, rows * cols) * Float.BYTES, 64), 0, rows, cols);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) m.set(r, c, (float) rnd.nextGaussian());
        return m;
    }

    @ParameterizedTest(name = "nq {0}, nk {1}, split {2}, heads {3}")
    @CsvSource({"1, 2, 1, 1", "7, 37, 13, 2", "33, 300, 129, 3", "5, 40, 20, 1"})
    void blocksMergeIntoTheAttentionOverAllKeys(int nq, int nk, int split, int heads) {
        Random rnd = new Random(nq * 31L + nk);
        int dqk = 5, dv = 3;
        try (Arena arena = Arena.ofShared()) {
            Matrix q = random(arena, rnd, nq, heads * dqk), k = random(arena, rnd, nk, heads * dqk);
            Matrix v = random(arena, rnd, nk, heads * dv), mask = random(arena, rnd, 1, nk);
            for (int j = 0; j < nk; j++) if (j % 3 == 0 || j >= 35 && j < 40) mask.set(0, j, -3.4028235e38f);
            for (Kernels kernels : new Kernels[] {Kernels.scalar(), Kernels.best()}) {
                Matrix whole = random(arena, rnd, nq, heads * dv), wholeLse = random(arena, rnd, heads * nq, 1);
                kernels.attention(Parallel.SERIAL, q, k, v, heads, mask, whole, null, wholeLse, arena);

                Matrix acc = random(arena, rnd, nq, heads * dv), accLse = random(arena, rnd, heads * nq, 1);
                accLse.fill(Float.NEGATIVE_INFINITY);
                Matrix part = random(arena, rnd, nq, heads * dv), partLse = random(arena, rnd, heads * nq, 1);
                for (int[] block : new int[][] {{0, split}, {split, nk}}) {
                    kernels.attention(Parallel.SERIAL, q, k.rows(block[0], block[1]), v.rows(block[0], block[1]), heads,
                            mask.cols(block[0], block[1]), part, null, partLse, arena);
                    kernels.mergeAttention(Parallel.SERIAL, acc, accLse, part, partLse, heads);
                }
                assertClose(acc, whole, kernels.name() + " merged output");
                assertClose(accLse, wholeLse, kernels.name() + " merged log-sum-exp");
            }
        }
    }

    private static void assertClose(Matrix got, Matrix want, String what) {
        float[] g = got.toArray(), w = want.toArray();
        double max = 1e-30;
        for (float f : w) if (Math.abs(f) < 1e30) max = Math.max(max, Math.abs(f));
        for (int i = 0; i < g.length; i++) {
            if (Math.abs(w[i]) >= 1e30) {  // a fully masked row: -3.4e38 plus log(n) is still -3.4e38
                assertThat(g[i]).as("%s[%d]", what, i).isEqualTo(w[i]);
                continue;
            }
            assertThat(Math.abs(g[i] - w[i])).as("%s[%d] = %s, want %s", what, i, g[i], w[i]).isLessThan((float) (2e-6 * max));
        }
    }
}
