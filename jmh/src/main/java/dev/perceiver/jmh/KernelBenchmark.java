package dev.perceiver.jmh;

import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.ThreadPool;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;

/**
 * What every kernel benchmark shares: the JVM its fork runs in (the Vector API, native access so that the kernels
 * align their loads, no bounds checks on vector accesses, heap for the largest shape's arrays), the thread count and
 * kernel set as parameters, and the arena, pool and kernels a trial runs on. Subclasses call {@link #open()} first in
 * their own setup.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0", "-Xmx12g"})
public abstract class KernelBenchmark {
    @Param({"1", "2"})
    public int threads;

    @Param({"vector"})
    public String kernels;

    protected Arena arena;
    protected ThreadPool pool;
    protected Kernels k;

    protected void open() {
        arena = Arena.ofShared();
        pool = new ThreadPool(threads);
        k = BenchData.kernels(kernels);
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }
}
