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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * One forward pass: where its temporaries live (scratch, reused across passes), where the tensors it returns live
 * (results), what extra outputs were asked for, how long each stage took, and, when traced, every span.
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
    /** The traced spans in the order they ended (kernels may be called from pool threads), or null when not traced. */
    private final Queue<TraceEvent> trace;
    private final long startNanos = System.nanoTime();

    Run(Backend backend, Scratch scratch, Arena results, boolean outputAttentions, boolean outputHiddenStates,
        boolean traced) {
        this.backend = backend;
        this.scratch = scratch;
        this.results = results;
        this.outputAttentions = outputAttentions;
        this.outputHiddenStates = outputHiddenStates;
        this.trace = traced ? new ConcurrentLinkedQueue<>() : null;
    }

    /**
     * A run for work done once when a model loads ({@link Weights#afterWarmUp}), in the load's scratch (see
     * {@link Weights#scratch}), which is reset after each such computation: its results live in the model's memory.
     */
    static Run atLoad(Weights w) {
        return new Run(w.backend(), w.scratch(), w.arena(), false, false, false);
    }

    boolean traced() {
        return trace != null;
    }

    /** The start of a span to {@link #endSpan}: a clock reading when traced, else 0 and nothing else. */
    long beginSpan() {
        return trace == null ? 0 : System.nanoTime();
    }

    /** Records the span begun at t0 (from {@link #beginSpan}) if this run is traced. */
    void endSpan(String category, String name, long t0) {
        if (trace != null) endSpan(category, name, t0, Map.of());
    }

    /** As above with arguments; callers build args only when {@link #traced()}. */
    void endSpan(String category, String name, long t0, Map<String, Object> args) {
        record(category, name, t0, System.nanoTime(), args);
    }

    private void record(String category, String name, long t0, long t1, Map<String, Object> args) {
        trace.add(new TraceEvent(category, name, t0 - startNanos, t1 - t0, Thread.currentThread().getName(), args));
    }

    /** A span's arguments in the order given (key, value, key, value...); build them only when {@link #traced()}. */
    static Map<String, Object> args(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        return m;
    }

    /** The traced spans sorted by start (outer spans first where two start together), or an empty list. */
    List<TraceEvent> traceEvents() {
        if (trace == null) return List.of();
        List<TraceEvent> events = new ArrayList<>(trace);
        events.sort(Comparator.comparingLong(TraceEvent::startNanos).thenComparing(e -> -e.durationNanos()));
        return List.copyOf(events);
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

    /** Runs body, adding its wall time to the named stage (and tracing it as a span). */
    <T> T stage(String name, Supplier<T> body) {
        long t0 = System.nanoTime();
        try {
            return body.get();
        } finally {
            long t1 = System.nanoTime();
            stageNanos.merge(name, t1 - t0, Long::sum);
            if (trace != null) record(TraceEvent.STAGE, name, t0, t1, Map.of());
        }
    }
}
