package dev.perceiver.jmh;

import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.ThreadPool;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;

/**
 * What every kernel benchmark shares: the thread count and kernel set as parameters, and the arena, pool and
 * kernels a trial runs on. Subclasses call {@link #open()} first in their own setup.
 */
@State(Scope.Benchmark)
public abstract class KernelBenchmark extends ForkedJvm {
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
