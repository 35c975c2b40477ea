package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.Checkpoints;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.ops.KernelChoice;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.AllocationTooLargeException;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.Backends;
import dev.perceiver.runtime.DeviceMode;
import dev.perceiver.runtime.GpuOptions;
import dev.perceiver.runtime.Scratch;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * A Perceiver / Perceiver IO model with one of the seven task heads of transformers' modeling_perceiver, built from
 * a config and its state_dict. Immutable once loaded and safe to share between threads: each forward pass takes its
 * own scratch memory from a pool. Close it to release the weights' mapping and the packed weights.
 */
public final class Perceiver implements AutoCloseable {

    /**
     * Outputs a pass computes only when asked. POSITION_EMBEDDINGS: the trainable image position table the pass used,
     * before its projection (PerceiverForImageClassificationLearned only; interpolated under
     * interpolate_pos_encoding). TRACE times its stages, layers and kernels ({@link PerceiverOutput#trace}).
     */
    public enum Extra { ATTENTIONS, HIDDEN_STATES, PREPROCESSED, POSITION_EMBEDDINGS, TRACE }

    /** torch.finfo(float32).min: the additive bias of a masked key (−∞ would turn fully masked rows into NaN). */
    static final float MASKED = -3.4028234663852886e38f;
    /** The model folder's configuration file, as the hub publishes it. */
    public static final String CONFIG_FILE = "config.json";

    private final PerceiverConfig config;
    private final Head head;
    private final Backend backend;
    private final boolean ownsBackend;
    private final Checkpoint checkpoint;
    private final Arena arena;
    private final Tensor latents;
    private final PerceiverEncoder encoder;
    private final TaskHead task;
    private final ConcurrentLinkedDeque<Scratch> idleScratch = new ConcurrentLinkedDeque<>();
    private final long parameterCount;
    private volatile boolean closed;

    private Perceiver(PerceiverConfig config, Weights root, Checkpoint checkpoint, Backend backend, boolean ownsBackend) {
        this.config = config;
        this.head = Head.of(config.architecture());
        this.backend = backend;
        this.ownsBackend = ownsBackend;
        this.checkpoint = checkpoint;
        this.arena = root.arena();
        Activation act = switch (config.hiddenAct()) {
            case "gelu" -> Activation.GELU;
            case "relu" -> Activation.RELU;
            default -> throw new IllegalArgumentException("unsupported hidden_act '" + config.hiddenAct() + "'");
        };
        this.task = head.build(root, config, act);
        Weights p = root.at("perceiver");
        this.latents = p.at("embeddings").tensor("latents", config.numLatents(), config.dLatents());
        this.encoder = new PerceiverEncoder(p.at("encoder"), config, task.kvDim(), latents, act);
        root.requireAllUsed();
        this.parameterCount = root.parameterCount();
        root.runDeferred();  // after the kernels' warm-up: the first pass, too, runs compiled kernels
        root.finishLoading();
        if (checkpoint != null) checkpoint.releaseResidentPages();
        Scratch scratch = root.takeScratch();
        prepareSampleLayout(scratch);
        idleScratch.push(scratch);
    }

    /**
     * Builds, at load, what the encoder computes once per input layout for the layout of the head's sample inputs: the
     * size the model is normally run at (the image size its processor makes, a flow tile, the multimodal video). A
     * first pass of that size then costs what later ones do; in a fresh JVM it spent most of its extra time (2.6 of
     * vision-learned's 3.3 s) building them. Then decodes the sample once where that is cheap
     * ({@link TaskHead#decodesAtLoad}): the multimodal decoder's first pass had spent 0.50 s instead of 0.26 s,
     * nearly half of it faulting in fresh scratch memory. The pass's scratch memory, touched here, serves the first
     * pass.
     */
    private void prepareSampleLayout(Scratch scratch) {
        if (!encoder.factors() && !task.decodesAtLoad()) return;
        try (Arena arena = Arena.ofShared()) {  // the decoder's results are written by the engine's threads
            Run run = new Run(backend, scratch, arena, false, false, false);
            PerceiverInputs sample = SampleInputs.zeros(head, config, 1, arena);
            Preprocessed pre = task.preprocess(run, sample);
            if (encoder.factors()) encoder.prepare(run, pre.input());
            if (task.decodesAtLoad()) task.decode(run, pre, broadcastLatents(run, 1), sample);
        } catch (InvalidInputException | AllocationTooLargeException e) {
            // A config whose sample does not fit here: its first pass of that size builds the tables instead.
        } finally {
            scratch.reset();
        }
    }

    /** {@link #create(PerceiverConfig, Checkpoint, Backend, boolean, Options)} with the default options. */
    public static Perceiver create(PerceiverConfig config, Checkpoint checkpoint, Backend backend, boolean ownsBackend) {
        return create(config, checkpoint, backend, ownsBackend, Options.DEFAULT);
    }

    /**
     * Builds the model for config's architecture from checkpoint's tensors, running on backend, with the model's
     * choices in options (its threads, device, kernels and gpu describe a backend, and backend is given here). The
     * model keeps using the checkpoint's memory: close the model, not the checkpoint. If ownsBackend, closing the
     * model closes the backend too.
     */
    public static Perceiver create(PerceiverConfig config, Checkpoint checkpoint, Backend backend, boolean ownsBackend,
                                   Options options) {
        Arena arena = Arena.ofShared();
        Weights w = new Weights(checkpoint, backend, arena, options);
        try {
            return new Perceiver(config, w, checkpoint, backend, ownsBackend);
        } catch (RuntimeException e) {
            w.takeScratch().close();
            arena.close();
            if (e instanceof CheckpointException || checkpoint.path() == null) throw e;
            throw new CheckpointException(checkpoint.path(), e.getMessage(), e);
        }
    }

    /**
     * Every choice of how a model runs, in one place; nothing else (no system property) chooses an algorithm.
     *
     * @param threads                 worker threads; 0 or less means one per processor
     * @param device                  cpu, gpu or auto (a working GPU, else the CPU)
     * @param kernels                 the CPU kernels: auto (Vector API where it runs well), vector or scalar
     * @param gpu                     where to find CUDA, which device, whether TF32 is allowed (unused on cpu)
     * @param factoredCrossAttention  compute the encoder's cross-attention without projecting the input channels
     *                                that never change ({@link FactoredCrossAttention}), from tables built once per
     *                                input layout (at load for the size the model is normally run at); and, where
     *                                that costs less, a one-head cross-attention with projections folded away: a
     *                                decoder's query and output projections into its keys and values
     *                                ({@link PerceiverLayer#foldingPays}), an encoder's key projection into its
     *                                constant queries and its value projection after the attention
     *                                ({@link PerceiverLayer#keyFoldingPays}); off runs the direct computation, which
     *                                agrees to rounding
     * @param keyBlockFloats          keys and values (floats) above which a cross-attention works a block of keys
     *                                of this size at a time, merging the blocks' softmax exactly; the factored
     *                                cross-attention's blocks of scores and values take at most this many
     */
    public record Options(int threads, String device, KernelChoice kernels, GpuOptions gpu,
                          boolean factoredCrossAttention, long keyBlockFloats) {
        public static final long DEFAULT_KEY_BLOCK_FLOATS = 4L << 20;
        public static final Options DEFAULT = new Options(0, "auto");

        public Options {
            DeviceMode.parse(device);
            Objects.requireNonNull(kernels, "kernels");
            Objects.requireNonNull(gpu, "gpu");
            if (keyBlockFloats < 1) throw new IllegalArgumentException("keyBlockFloats must be >= 1, not " + keyBlockFloats);
        }

        /** threads and device, everything else the default. */
        public Options(int threads, String device) {
            this(threads, device, KernelChoice.AUTO, GpuOptions.defaults(), true, DEFAULT_KEY_BLOCK_FLOATS);
        }

        public Options withThreads(int n) {
            return new Options(n, device, kernels, gpu, factoredCrossAttention, keyBlockFloats);
        }

        public Options withDevice(String d) {
            return new Options(threads, d, kernels, gpu, factoredCrossAttention, keyBlockFloats);
        }

        public Options withKernels(KernelChoice k) {
            return new Options(threads, device, k, gpu, factoredCrossAttention, keyBlockFloats);
        }

        public Options withGpu(GpuOptions g) {
            return new Options(threads, device, kernels, g, factoredCrossAttention, keyBlockFloats);
        }

        public Options withFactoredCrossAttention(boolean on) {
            return new Options(threads, device, kernels, gpu, on, keyBlockFloats);
        }

        public Options withKeyBlockFloats(long floats) {
            return new Options(threads, device, kernels, gpu, factoredCrossAttention, floats);
        }

        /** A new backend as these options say: the caller closes it (or passes ownership to a model). */
        public Backend openBackend() {
            return Backends.create(DeviceMode.parse(device), threads, kernels, gpu);
        }
    }

    /**
     * Loads a model folder as the hub publishes it: config.json plus model.safetensors (memory-mapped) or
     * pytorch_model.bin.
     */
    public static Perceiver load(Path dir, Options options) {
        return load(dir, PerceiverConfig.load(dir.resolve(CONFIG_FILE)), options);
    }

    /** {@link #load(Path, Options)} with the default options: one thread per processor, the GPU if one works. */
    public static Perceiver load(Path dir) {
        return load(dir, Options.DEFAULT);
    }

    /** {@link #load(Path, Options)} for a folder whose config.json the caller has read already (config). */
    public static Perceiver load(Path dir, PerceiverConfig config, Options options) {
        Checkpoint checkpoint = Checkpoints.open(dir);
        Backend backend;
        try {
            backend = options.openBackend();
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
        try {
            return create(config, checkpoint, backend, true, options);
        } catch (RuntimeException e) {
            checkpoint.close();
            backend.close();
            throw e;
        }
    }

    /** {@link #random(PerceiverConfig, Backend, boolean, Options)} with the default options. */
    public static Perceiver random(PerceiverConfig config, Backend backend, boolean ownsBackend) {
        return random(config, backend, ownsBackend, Options.DEFAULT);
    }

    /**
     * The model of config with random weights and options' model choices: for measuring speed at a checkpoint's
     * sizes without the checkpoint.
     */
    public static Perceiver random(PerceiverConfig config, Backend backend, boolean ownsBackend, Options options) {
        Arena arena = Arena.ofShared();
        Weights w = new Weights(null, backend, arena, options);
        try {
            return new Perceiver(config, w, null, backend, ownsBackend);
        } catch (RuntimeException e) {
            w.finishLoading();
            w.takeScratch().close();
            arena.close();
            throw e;
        }
    }

    public PerceiverConfig config() {
        return config;
    }

    public Head head() {
        return head;
    }

    public Backend backend() {
        return backend;
    }

    /** Forward passes whose encoder cross-attention ran factored so far (the tests' view of which path ran). */
    long factoredCrossAttentionPasses() {
        return encoder.factoredPasses.sum();
    }

    /** Items, at load included, whose factored cross-attention probabilities weighed the inputs (the tests' view). */
    long factoredPassesWeighingInputs() {
        return encoder.factoredPassesWeighingInputs();
    }

    /** Input layouts whose factored cross-attention tables were built so far, at load included (the tests' view). */
    int factoredTableBuilds() {
        return encoder.factoredTableBuilds();
    }

    /** Key blocks the encoder's cross-attention has attended to one at a time (see Options.keyBlockFloats). */
    long encoderKeyBlocks() {
        return encoder.crossAttention.keyBlocks.sum();
    }

    /** Scalars in the model's state_dict (buffers such as batch-norm statistics included). */
    public long parameterCount() {
        return parameterCount;
    }

    /** Bytes of scratch memory the model holds for inferences (the most any pass needed, per idle pass slot). */
    public long scratchBytes() {
        return idleScratch.stream().mapToLong(Scratch::highWaterBytes).max().orElse(0);
    }

    /**
     * Runs the model on one batch. Inputs the model cannot take are refused with an {@link InvalidInputException}
     * naming them: wrong shapes, an empty batch or any other dimension of size 0, an input of more than 2^31 - 1
     * elements, and inputs so large that a working buffer for them would exceed the machine's memory (refused before
     * it is allocated). Input values are not checked: as in the reference, a NaN or an infinity propagates, and the
     * outputs of its batch item come out NaN; the other items of the batch are unaffected.
     */
    public PerceiverOutput forward(PerceiverInputs in, Extra... extras) {
        return forward(in, Arena.ofAuto(), extras);
    }

    /**
     * As {@link #forward(PerceiverInputs, Extra...)}, with the output's tensors in results, a shared arena (the
     * engine's threads write them) that the caller closes when done with them. Their memory is then freed at once
     * rather than when the garbage collector finds them unreachable, so a long stream of passes stays in bounded
     * memory.
     */
    public PerceiverOutput forward(PerceiverInputs in, Arena results, Extra... extras) {
        if (closed) throw new IllegalStateException("model is closed");
        requireRunnableSizes(in);
        Set<Extra> ex = extras.length == 0 ? EnumSet.noneOf(Extra.class) : EnumSet.copyOf(Arrays.asList(extras));
        task.check(in);
        Scratch scratch = idleScratch.poll();
        if (scratch == null) scratch = new Scratch();
        Run run = new Run(backend, scratch, results, ex.contains(Extra.ATTENTIONS), ex.contains(Extra.HIDDEN_STATES),
                ex.contains(Extra.TRACE));
        run.outputPositionEmbeddings = ex.contains(Extra.POSITION_EMBEDDINGS);
        long pass = run.beginSpan();
        try {
            Preprocessed pre = run.stage("preprocess", () -> task.preprocess(run, in));
            int batch = pre.input().batch();
            Tensor maskBias = maskBias(run, in.attentionMask(), batch, pre.input().tokens());
            Tensor z = encoder.forward(run, broadcastLatents(run, batch), pre.input(), maskBias);
            Map<String, Tensor> logits = task.decode(run, pre, z, in);
            Tensor loss = in.hasLabels() ? task.loss(run, logits.get(""), in) : null;
            Tensor last = run.keep(z), preprocessed = ex.contains(Extra.PREPROCESSED) ? run.keep(pre.input().tensor(run)) : null,
                    positions = run.positionEmbeddings == null ? null : keep(run, run.positionEmbeddings);
            run.endSpan(TraceEvent.PASS, "forward", pass);
            return new PerceiverOutput(logits, loss, last, List.copyOf(run.hiddenStates), List.copyOf(run.attentions),
                    List.copyOf(run.crossAttentions), preprocessed, positions, Map.copyOf(run.stageNanos), run.flops(),
                    run.traceEvents());
        } catch (AllocationTooLargeException e) {
            throw new InvalidInputException(describe(in) + ": " + e.getMessage());
        } finally {
            scratch.reset();
            if (closed) scratch.close();
            else idleScratch.push(scratch);
        }
    }

    /**
     * Whether this model takes interpolate_pos_encoding: it has a trainable position table over a 2-D image grid
     * (PerceiverForImageClassificationLearned), which the flag resizes to the input's size.
     */
    public boolean interpolatesPositions() {
        return task.interpolatesPositions();
    }

    /** A copy of m in the pass's result memory, as a tensor [rows, cols]. */
    private static Tensor keep(Run run, Matrix m) {
        Tensor out = run.result(m.rows(), m.cols());
        out.matrix().copyFrom(m);
        return out;
    }

    /** The input tensors by name with their shapes. */
    private static Map<String, int[]> shapes(PerceiverInputs in) {
        Map<String, int[]> shapes = new TreeMap<>();
        if (in.inputs() != null) shapes.put("inputs", in.inputs().shape());
        if (in.inputIds() != null) shapes.put("inputs", in.inputIds().shape());
        in.modalities().forEach((m, t) -> shapes.put("inputs." + m, t.shape()));
        return shapes;
    }

    private static String describe(PerceiverInputs in) {
        StringBuilder s = new StringBuilder();
        shapes(in).forEach((name, shape) ->
                s.append(s.isEmpty() ? "" : ", ").append(name).append(' ').append(Arrays.toString(shape)));
        return s.toString();
    }

    /**
     * An empty tensor has nothing to attend to (the reference's empty results are not defined here), and one of more
     * than 2^31 - 1 elements is beyond the engine's 32-bit indexing: both are refused before any work.
     */
    private static void requireRunnableSizes(PerceiverInputs in) {
        shapes(in).forEach((name, shape) -> {
            long n = 1;
            for (int d : shape) {
                if (d == 0) throw new InvalidInputException(name + " has shape " + Arrays.toString(shape)
                        + ": an empty batch or a dimension of size 0 cannot be run");
                n *= d;
                if (n > Integer.MAX_VALUE) throw new InvalidInputException(name + " has shape " + Arrays.toString(shape)
                        + ": more than " + Integer.MAX_VALUE + " elements is beyond what the engine can index");
            }
        });
    }

    /** (1 - mask)·finfo.min, added to the encoder cross-attention scores; null when there is no mask. */
    private Tensor maskBias(Run run, Tensor mask, int batch, int tokens) {
        if (mask == null) return null;
        boolean perLatent = mask.rank() == 3 && mask.dim(0) == batch && mask.dim(1) == config.numLatents()
                && mask.dim(2) == tokens;
        if (!perLatent && !(mask.rank() == 2 && mask.dim(0) == batch && mask.dim(1) == tokens))
            throw new InvalidInputException("attention_mask must be [" + batch + ", " + tokens + "] (batch, input tokens), got "
                    + Arrays.toString(mask.shape()));
        Tensor bias = run.tensor(mask.shape());
        long n = mask.size();
        Matrix out = bias.reshape(1, (int) n).matrix();
        for (int i = 0; i < n; i++) out.set(0, i, (1f - mask.getFlat(i)) * MASKED);
        return bias;
    }

    private Tensor broadcastLatents(Run run, int batch) {
        Tensor out = run.tensor(batch, config.numLatents(), config.dLatents());
        for (int b = 0; b < batch; b++) out.select(0, b).copyFrom(latents);
        return out;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Scratch s;
        while ((s = idleScratch.poll()) != null) s.close();
        arena.close();
        if (checkpoint != null) checkpoint.close();
        if (ownsBackend) backend.close();
    }
}
