package dev.perceiver.model;

import dev.perceiver.io.PerceiverTokenizer;
import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.Checkpoints;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.runtime.ThreadPool;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** A reference case in testdata/golden: a model folder with the inputs given and the outputs expected. */
record GoldenCase(String name, Path dir) {

    static Path root() {
        return Path.of(System.getProperty("perceiver.testdata", "../testdata")).resolve("golden");
    }

    /** Every model case (folders with a config.json). */
    static Stream<GoldenCase> all() throws Exception {
        try (Stream<Path> dirs = Files.list(root())) {
            List<GoldenCase> cases = new ArrayList<>();
            for (Path d : dirs.sorted().toList())
                if (Files.exists(d.resolve("config.json"))) cases.add(new GoldenCase(d.getFileName().toString(), d));
            return cases.stream();
        }
    }

    static GoldenCase of(String name) {
        return new GoldenCase(name, root().resolve(name));
    }

    PerceiverConfig config() {
        return PerceiverConfig.load(dir.resolve("config.json"));
    }

    /** The model as Perceiver.load opens it (Checkpoints.open tells the format), on the given kernels. */
    Perceiver load(Kernels kernels, int threads) {
        return Perceiver.create(config(), Checkpoints.open(dir),
                new CpuBackend(kernels, new ThreadPool(threads)), true);
    }

    Checkpoint golden() {
        return SafeTensorsFile.open(dir.resolve("golden.safetensors"));
    }

    /**
     * The golden inputs (variant 0) or a variant of them that gives other outputs: float inputs shifted by small
     * variant-dependent amounts, byte token ids rotated; masks, output points and labels kept. Copied into arena,
     * so they outlive the golden file (a shared arena lets several threads read them).
     */
    PerceiverInputs inputs(int variant, Arena arena) {
        try (Checkpoint golden = golden()) {
            PerceiverInputs in = NamedInputs.read(golden, arena);
            int vocab = config().vocabSize();
            PerceiverInputs out;
            if (!in.modalities().isEmpty()) {
                Map<String, Tensor> modalities = new TreeMap<>();
                in.modalities().forEach((m, t) -> modalities.put(m, shifted(t, variant, arena)));
                out = PerceiverInputs.ofModalities(modalities);
            } else if (in.inputIds() != null) {
                long[] ids = in.inputIds().data().clone();
                int specials = PerceiverTokenizer.SPECIAL_TOKENS;
                for (int i = 0; i < ids.length; i++)
                    if (ids[i] >= specials) ids[i] = specials + (ids[i] - specials + 13L * variant) % (vocab - specials);
                out = PerceiverInputs.ofTokens(new LongTensor(ids, in.inputIds().shape()));
            } else {
                out = PerceiverInputs.of(shifted(in.inputs(), variant, arena));
            }
            if (in.attentionMask() != null) out.attentionMask(in.attentionMask().copy(arena));
            in.subsampledOutputPoints().forEach(out::subsample);
            if (in.labelIndices() != null) out.labels(in.labelIndices());
            if (in.labelValues() != null) out.labels(in.labelValues().copy(arena));
            return out;
        }
    }

    private static Tensor shifted(Tensor t, int variant, Arena arena) {
        float[] v = t.toArray();
        for (int i = 0; i < v.length; i++) v[i] += variant * 0.05f * ((i * 7919 % 23) - 11) / 11f;
        return Tensor.of(arena, v, t.shape());
    }

    /**
     * want and got hold the same tensors, bit for bit (Arrays.mismatch compares floats by their bits; AssertJ's
     * containsExactly takes minutes on attention maps of a million values).
     */
    static void assertSameValues(Map<String, float[]> want, Map<String, float[]> got, String what) {
        assertThat(got.keySet()).as(what).isEqualTo(want.keySet());
        List<String> differences = new ArrayList<>();
        want.forEach((name, values) -> {
            float[] g = got.get(name);
            int at = Arrays.mismatch(values, g);
            if (at >= 0)
                differences.add(String.format("%s differs at index %d of %d: %s instead of %s", name, at, values.length,
                        at < g.length ? g[at] : "nothing", at < values.length ? values[at] : "nothing"));
        });
        if (!differences.isEmpty()) throw new AssertionError(what + ": " + String.join("; ", differences));
    }

    /** Every output tensor of a pass by its reference name, as values that outlive the pass. */
    static Map<String, float[]> values(PerceiverOutput out) {
        Map<String, float[]> values = new TreeMap<>();
        out.named().forEach((name, t) -> values.put(name, t.toArray()));
        return values;
    }

    /** max|got - want| and max|want| of two tensors of equal shape. */
    record Agreement(String name, double maxError, double maxWant) {
        boolean ok() {
            return maxError <= 1e-4 * maxWant;
        }

        double relative() {
            return maxWant == 0 ? maxError : maxError / maxWant;
        }

        @Override
        public String toString() {
            return String.format("%-20s max|err| %.3g  max|want| %.3g  rel %.3g%s", name, maxError, maxWant, relative(),
                    ok() ? "" : "  <-- FAILS 1e-4");
        }
    }

    static Agreement compare(String name, Tensor got, Tensor want) {
        if (!Arrays.equals(got.shape(), want.shape()))
            throw new AssertionError(name + ": shape " + Arrays.toString(got.shape()) + ", expected " + Arrays.toString(want.shape()));
        float[] g = got.toArray(), w = want.toArray();
        double err = 0, max = 0;
        for (int i = 0; i < g.length; i++) {
            double e = Math.abs((double) g[i] - w[i]);
            if (Double.isNaN(e)) e = Double.POSITIVE_INFINITY;
            err = Math.max(err, e);
            max = Math.max(max, Math.abs(w[i]));
        }
        return new Agreement(name, err, max);
    }
}
