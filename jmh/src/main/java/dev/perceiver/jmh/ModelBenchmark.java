package dev.perceiver.jmh;

import dev.perceiver.model.OfficialModels;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverInputs;
import dev.perceiver.model.PerceiverOutput;
import dev.perceiver.model.SampleInputs;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.ThreadPool;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One forward pass of an official model's configuration with random weights (speed does not depend on the values) on
 * inputs of its usual size, as {@code perceiver bench --model NAME} times it, but under JMH's forks, warm-up and
 * statistics. Score: passes per second; the {@code gflop} counter: GFLOP/s, counted as the reference counts them.
 * A pass takes seconds, so an iteration of 1 s runs one pass or more. Other models:
 * {@code -p model=vision-fourier,optical-flow,...}. {@code -p pollute=0,1000} compares a fresh JVM with one that ran
 * the tiny golden models 1,000 times each first (run from the repository's root, or give {@code -p testdata=DIR}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
public class ModelBenchmark extends ForkedJvm {
    @Param({"language-mlm", "vision-conv"})
    public String model;

    @Param({"1"})
    public int batch;

    @Param({"2"})
    public int threads;

    @Param({"vector"})
    public String kernels;

    /** Runs of each tiny model in {@code testdata/golden} first (a long-lived JVM's history, as bench --pollute). */
    @Param({"0"})
    public int pollute;

    /** Where pollute finds golden/: the repository's testdata, from the folder the benchmark runs in. */
    @Param({"testdata"})
    public String testdata;

    private Arena arena;
    private Perceiver perceiver;
    private PerceiverInputs inputs;

    @Setup
    public void setUp() throws IOException {
        if (!OfficialModels.has(model))
            throw new IllegalArgumentException("model: one of " + OfficialModels.names() + ", not " + model);
        CpuBackend backend = new CpuBackend(BenchData.kernels(kernels), new ThreadPool(threads));
        if (pollute > 0) SampleInputs.runEach(Path.of(testdata, "golden"), backend, pollute);
        perceiver = Perceiver.random(OfficialModels.config(model), backend, true);
        arena = Arena.ofShared();
        inputs = SampleInputs.of(perceiver.head(), perceiver.config(), batch, arena, 42);
    }

    @Benchmark
    public PerceiverOutput forward(Rate rate) {
        PerceiverOutput out = perceiver.forward(inputs);
        rate.gflop += out.flops() / 1e9;
        return out;
    }

    @TearDown
    public void tearDown() {
        perceiver.close();
        arena.close();
    }
}
