package dev.perceiver.model;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.TensorInfo;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.Scratch;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Binds model parameters to checkpoint tensors by their state_dict names, checking each shape against what the
 * config implies. Names are built by {@link #at} scopes, so {@code w.at("perceiver").at("encoder").linear("query")}
 * reads {@code perceiver.encoder.query.weight} / {@code .bias}. Remembers every name it read, so tensors the model
 * does not know are reported instead of silently ignored. Without a checkpoint it makes random weights of every
 * shape asked for (seeded by name), which is all a speed benchmark at the official sizes needs.
 */
final class Weights {
    private final Checkpoint checkpoint;
    private final Backend backend;
    private final Arena arena;
    private final Set<String> used;
    private final long[] parameters;
    private final List<Runnable> deferred;
    /**
     * The temporaries of what the model computes while it loads. Its slabs are then touched, so the model keeps it
     * for its passes ({@link #takeScratch}): on a VM where fresh memory faults in at ~0.4 GB/s, a first pass that
     * took new slabs spent 170 ms of the language model's 0.9 s on them.
     */
    private final Scratch scratch;
    /** Random weights that are only needed while the model loads (they are packed or folded into tables). */
    private final Staging staging;
    private final String prefix;
    /** The model's algorithm choices, for the layers built from these weights. */
    private final Perceiver.Options options;

    Weights(Checkpoint checkpoint, Backend backend, Arena arena, Perceiver.Options options) {
        this(checkpoint, backend, arena, new LinkedHashSet<>(), new long[1], new ArrayList<>(), new Scratch(),
                checkpoint == null ? new Staging() : null, "", options);
    }

    private Weights(Checkpoint checkpoint, Backend backend, Arena arena, Set<String> used, long[] parameters,
                    List<Runnable> deferred, Scratch scratch, Staging staging, String prefix, Perceiver.Options options) {
        this.options = options;
        this.checkpoint = checkpoint;
        this.backend = backend;
        this.arena = arena;
        this.used = used;
        this.parameters = parameters;
        this.deferred = deferred;
        this.scratch = scratch;
        this.staging = staging;
        this.prefix = prefix;
    }

    Weights at(String scope) {
        return new Weights(checkpoint, backend, arena, used, parameters, deferred, scratch, staging, name(scope) + ".",
                options);
    }

    /**
     * Computes something from the weights (constant query projections) once the kernels are compiled, at
     * {@link #runDeferred}: a vector kernel still running interpreted is ~100x slower, and the language model's latent
     * layer norm alone took 0.8 s of its load that way. The weights it reads stay valid until {@link #finishLoading}.
     */
    void afterWarmUp(Runnable computation) {
        deferred.add(computation);
    }

    /** Waits for the kernels' warm-up, which ran while the weights were read, then runs the deferred computations. */
    void runDeferred() {
        Kernels.awaitWarmUp();
        for (Runnable computation : deferred) {
            computation.run();
            scratch.reset();
        }
        deferred.clear();
    }

    /** Loading is over: frees what only loading needed. */
    void finishLoading() {
        if (staging != null) staging.close();
    }

    /** The load's scratch memory, for work done at load ({@link Run#atLoad}); reset after each deferred computation. */
    Scratch scratch() {
        return scratch;
    }

    /** The load's scratch, handed on to the model's passes (or closed by a load that failed). */
    Scratch takeScratch() {
        scratch.reset();
        return scratch;
    }

    /** Where staged random weights stand (null with a checkpoint): {@link #release} frees what is staged after it. */
    Staging.Mark mark() {
        return staging == null ? null : staging.mark();
    }

    void release(Staging.Mark mark) {
        if (staging != null) staging.release(mark);
    }

    /** Scalars in every tensor bound so far (the state_dict's size, buffers included). */
    long parameterCount() {
        return parameters[0];
    }

    Weights at(String scope, int index) {
        return at(scope + "." + index);
    }

    String name(String local) {
        return prefix + local;
    }

    /** This scope's own name, e.g. {@code perceiver.encoder.self_attends.0}. */
    String scope() {
        return prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1);
    }

    Perceiver.Options options() {
        return options;
    }

    Backend backend() {
        return backend;
    }

    /** Memory that lives as long as the model (packed weights, precomputed tables). */
    Arena arena() {
        return arena;
    }

    boolean has(String local) {
        return checkpoint != null && checkpoint.names().contains(name(local));
    }

    /** The float tensor local, which must have exactly this shape. */
    Tensor tensor(String local, int... shape) {
        String full = name(local);
        parameters[0] += Arrays.stream(shape).asLongStream().reduce(1, Math::multiplyExact);
        if (checkpoint == null) return random(full, shape, arena);
        if (!checkpoint.names().contains(full))
            throw new CheckpointException(checkpoint.path(), "missing tensor " + full + " " + Arrays.toString(shape)
                    + " that this config needs");
        TensorInfo info = checkpoint.info(full);
        if (!Arrays.equals(info.intShape(), shape))
            throw new CheckpointException(checkpoint.path(), "tensor " + full + " has shape "
                    + Arrays.toString(info.intShape()) + " but the config implies " + Arrays.toString(shape));
        used.add(full);
        return checkpoint.floats(full, arena);
    }

    /** A 1-D parameter as a 1 x n row. */
    Matrix row(String local, int n) {
        return tensor(local, n).reshape(1, n).matrix();
    }

    /** Marks a tensor the model reads but does not use (BatchNorm's num_batches_tracked). */
    void ignore(String local) {
        if (!has(local)) return;
        used.add(name(local));
        parameters[0] += checkpoint.info(name(local)).elements();
    }

    Linear linear(String local, int in, int out) {
        return linear(local, in, out, out, in);
    }

    /** A Linear whose weight is stored with another shape of out·in elements (a 1x1 convolution's [out, in, 1, 1]). */
    Linear linear(String local, int in, int out, int... weightShape) {
        Weights l = at(local);
        if (checkpoint == null) {
            // Random weights only live until they are packed, as a checkpoint's pages do (releaseResidentPages).
            Staging.Mark mark = mark();
            Matrix weight = l.random(l.name("weight"), weightShape, null).reshape(out, in).matrix();
            Linear linear = new Linear(backend.prepareLinear(weight, l.row("bias", out), arena));
            release(mark);
            return linear;
        }
        Matrix weight = l.tensor("weight", weightShape).reshape(out, in).matrix();
        Matrix bias = l.row("bias", out);
        return new Linear(backend.prepareLinear(weight, bias, arena));
    }

    /** A Linear layer's weight [out, in] and bias [1, out], as stored. */
    record Dense(Matrix weight, Matrix bias) {}

    /** Valid while the model loads: a Linear layer's stored weights, to fuse or fold into other tables. */
    Dense dense(String local, int in, int out) {
        Weights l = at(local);
        Matrix weight = checkpoint == null ? l.random(l.name("weight"), new int[] {out, in}, null).matrix()
                : l.tensor("weight", out, in).matrix();
        return new Dense(weight, l.row("bias", out));
    }

    /**
     * Linear layers over the same input fused into one product, their outputs side by side in the order given
     * (query, key and value of a self-attention layer): one pass over the input instead of several.
     */
    Linear fuse(Dense... parts) {
        int in = parts[0].weight().cols(), total = Arrays.stream(parts).mapToInt(d -> d.weight().rows()).sum();
        try (Arena fused = Arena.ofConfined()) {
            Matrix weight = Tensor.zeros(fused, total, in).matrix();
            Matrix bias = Tensor.zeros(arena, 1, total).matrix();
            int row = 0;
            for (Dense d : parts) {
                int n = d.weight().rows();
                weight.rows(row, row + n).copyFrom(d.weight());
                bias.cols(row, row + n).copyFrom(d.bias());
                row += n;
            }
            return new Linear(backend.prepareLinear(weight, bias, arena));
        }
    }

    /** A Linear, without bias, of a weight [out, in] computed at load (packed or uploaded here: any memory will do). */
    Linear computedLinear(Matrix weight) {
        return new Linear(backend.prepareLinear(weight, null, arena));
    }

    LayerNorm layerNorm(String local, int dim) {
        Weights l = at(local);
        return new LayerNorm(l.row("weight", dim), l.row("bias", dim));
    }

    /**
     * Small uniform values, except ones where a norm's scale or a variance belongs, so every layer stays in range.
     * Into the model's arena, or into staging when into is null.
     */
    private Tensor random(String name, int[] shape, Arena into) {
        long n = Arrays.stream(shape).asLongStream().reduce(1, Math::multiplyExact);
        if (into == null) parameters[0] += n;
        Tensor t = into == null ? Tensor.wrap(staging.allocate(n), 0, shape) : Tensor.zeros(into, shape);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(name.hashCode());
        boolean unitScale = name.endsWith("running_var") || (name.contains("layernorm") && name.endsWith("weight"));
        float[] chunk = new float[(int) Math.min(n, 1 << 16)];
        for (long done = 0; done < n; done += chunk.length) {
            int len = (int) Math.min(chunk.length, n - done);
            for (int i = 0; i < len; i++) {
                float u = (float) (rnd.nextDouble() * 2 - 1);
                chunk[i] = unitScale ? 1f + 0.1f * u : 0.05f * u;
            }
            MemorySegment.copy(chunk, 0, t.segment(), ValueLayout.JAVA_FLOAT, done * Float.BYTES, len);
        }
        return t;
    }

    /** Fails, naming them, if the checkpoint holds tensors no part of the model read. */
    void requireAllUsed() {
        if (checkpoint == null) return;
        Set<String> extra = new TreeSet<>(checkpoint.names());
        extra.removeAll(used);
        if (!extra.isEmpty()) {
            List<String> shown = extra.stream().limit(8).toList();
            throw new CheckpointException(checkpoint.path(), extra.size() + " tensor" + (extra.size() == 1 ? "" : "s")
                    + " that this " + "model does not have: " + String.join(", ", shown)
                    + (extra.size() > shown.size() ? ", ..." : "") + " (is the config's architecture right?)");
        }
    }
}
