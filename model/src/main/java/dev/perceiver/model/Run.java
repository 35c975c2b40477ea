package dev.perceiver.model;

import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.Parallel;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.Scratch;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One forward pass: where its temporaries live (scratch, reused across passes), where the tensors it returns live
 * (results), what extra outputs were asked for, and how long each stage took.
 */
final class Run {
    private final Backend backend;
    private final Scratch scratch;
    private final Arena results;
    final boolean outputAttentions;
    final boolean outputHiddenStates;
    final List<Tensor> hiddenStates = new ArrayList<>();
    final List<Tensor> attentions = new ArrayList<>();
    final List<Tensor> crossAttentions = new ArrayList<>();
    final Map<String, Long> stageNanos = new LinkedHashMap<>();
    /** Whether the pass returns its trainable image position table, and that table (before its projection). */
    boolean outputPositionEmbeddings;
    Matrix positionEmbeddings;
    /** Matrix-product FLOPs (2 per multiply-add) of this pass as the reference computes them, cached work included. */
    private final java.util.concurrent.atomic.LongAdder flops = new java.util.concurrent.atomic.LongAdder();

    Run(Backend backend, Scratch scratch, Arena results, boolean outputAttentions, boolean outputHiddenStates) {
        this.backend = backend;
        this.scratch = scratch;
        this.results = results;
        this.outputAttentions = outputAttentions;
        this.outputHiddenStates = outputHiddenStates;
    }

    /** A run for work done once when a model loads: its results live in the model's memory. */
    static Run atLoad(Weights w, Scratch scratch) {
        return new Run(w.backend(), scratch, w.arena(), false, false);
    }

    Backend backend() {
        return backend;
    }

    /** Where tensors that outlive the pass are allocated. */
    Arena resultArena() {
        return results;
    }

    Kernels kernels() {
        return backend.kernels();
    }

    Parallel parallel() {
        return backend.parallel();
    }

    Scratch scratch() {
        return scratch;
    }

    /** A temporary tensor; contents undefined until written. */
    Tensor tensor(int... shape) {
        long n = 1;
        for (int d : shape) n = Math.multiplyExact(n, d);
        return Tensor.wrap(scratch.allocate(Math.max(1, n) * Float.BYTES, 64), 0, shape);
    }

    Matrix matrix(int rows, int cols) {
        return tensor(rows, cols).matrix();
    }

    /** A zeroed tensor that outlives the pass (returned to the caller). */
    Tensor result(int... shape) {
        return zeros(results, shape);
    }

    /** Tensor.zeros, first refusing a size no allocation on this machine can have (memory outside any Scratch). */
    static Tensor zeros(SegmentAllocator alloc, int... shape) {
        long n = 1;
        for (int d : shape) n = Math.multiplyExact(n, d);
        Scratch.requireAllocatable(n * Float.BYTES);
        return Tensor.zeros(alloc, shape);
    }

    /**
     * A copy of a caller's tensor in this pass's memory. Callers may hand in tensors from any arena, a confined one
     * included, but the kernels read their inputs from the pool's threads.
     */
    Tensor shared(Tensor t) {
        return t.copy(scratch);
    }

    /** A copy of t that outlives the pass. */
    Tensor keep(Tensor t) {
        return t.copy(results);
    }

    void countFlops(long n) {
        flops.add(n);
    }

    long flops() {
        return flops.sum();
    }

    /** Runs body, adding its wall time to the named stage. */
    <T> T stage(String name, Supplier<T> body) {
        long t0 = System.nanoTime();
        try {
            return body.get();
        } finally {
            stageNanos.merge(name, System.nanoTime() - t0, Long::sum);
        }
    }
}
