package dev.perceiver.model;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.runtime.ThreadPool;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

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

    Perceiver load(Kernels kernels, int threads) {
        return Perceiver.create(config(), SafeTensorsFile.open(dir.resolve("model.safetensors")),
                new CpuBackend(kernels, new ThreadPool(threads)), true);
    }

    Checkpoint golden() {
        return SafeTensorsFile.open(dir.resolve("golden.safetensors"));
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
