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
import java.util.LinkedHashMap;
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
    /** Decoder queries built and decoded at once when a multimodal model decodes every output point. */
    private static final int MULTIMODAL_QUERY_CHUNK = 8192;

    private final PerceiverConfig config;
    private final Head head;
    private final Backend backend;
    private final boolean ownsBackend;
    private final Checkpoint checkpoint;
    private final Arena arena;
    private final Tensor latents;
    private final PerceiverEncoder encoder;
    private final TextPreprocessor textPreprocessor;
    private final ModalityPreprocessor inputPreprocessor;
    private final MultimodalPreprocessor multimodalPreprocessor;
    private final BasicDecoder decoder;
    private final MultimodalDecoder multimodalDecoder;
    private final Linear embeddingDecoder;
    private final Map<String, Linear> outputPostprocessor = new TreeMap<>();
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
        Weights p = root.at("perceiver");
        Weights pre = p.at("input_preprocessor");
        TextPreprocessor text = null;
        ModalityPreprocessor single = null;
        MultimodalPreprocessor multi = null;
        BasicDecoder dec = null;
        MultimodalDecoder multiDec = null;
        Linear embDec = null;
        int kvDim;
        switch (head) {
            case MASKED_LM -> {
                text = new TextPreprocessor(pre, config.vocabSize(), config.maxPositionEmbeddings(), config.dModel());
                kvDim = text.numChannels();
                // PerceiverForMaskedLM: 8 heads with 8·32 query/key channels, one query per position.
                dec = new BasicDecoder(p.at("decoder"), config,
                        BasicDecoder.Spec.of(config.dLatents(), new int[] {config.maxPositionEmbeddings()}, kvDim)
                                .attention(8 * 32, kvDim, 8, false).finalProject(false).trainable(kvDim), act);
                Matrix embeddings = text.embeddings.matrix();
                embDec = new Linear(backend.prepareLinear(embeddings, root.at("embedding_decoder").row("bias",
                        config.vocabSize()), arena));
            }
            case SEQUENCE_CLASSIFICATION -> {
                text = new TextPreprocessor(pre, config.vocabSize(), config.maxPositionEmbeddings(), config.dModel());
                kvDim = text.numChannels();
                dec = classificationDecoder(p.at("decoder").at("decoder"), config, act);
            }
            case IMAGE_CLASSIFICATION_LEARNED, IMAGE_CLASSIFICATION_FOURIER, IMAGE_CLASSIFICATION_CONV, OPTICAL_FLOW -> {
                single = new ImagePreprocessor(pre, imageSpec(head, config));
                kvDim = single.numChannels();
                dec = head == Head.OPTICAL_FLOW
                        ? new BasicDecoder(p.at("decoder").at("decoder"), config,
                                BasicDecoder.Spec.of(2, null, kvDim).attention(null, null, 1, false)
                                        .fourier(new FourierPositionEncoding(64, trainSize(config), true, false)), act)
                        : classificationDecoder(p.at("decoder").at("decoder"), config, act);
            }
            case MULTIMODAL_AUTOENCODING -> {
                multi = multimodalPreprocessor(pre, config);
                kvDim = multi.numChannels();
                multiDec = multimodalDecoder(p.at("decoder"), config, act);
                Weights post = p.at("output_postprocessor").at("modalities");
                outputPostprocessor.put("audio", post.at("audio").linear("classifier", config.outputNumChannels(),
                        config.samplesPerPatch()));
                outputPostprocessor.put("image", post.at("image").linear("classifier", config.outputNumChannels(), 3));
                outputPostprocessor.put("label", post.at("label").linear("classifier", config.outputNumChannels(),
                        config.numLabels()));
            }
            default -> throw new IllegalStateException(head.toString());
        }
        this.textPreprocessor = text;
        this.inputPreprocessor = single;
        this.multimodalPreprocessor = multi;
        this.decoder = dec;
        this.multimodalDecoder = multiDec;
        this.embeddingDecoder = embDec;
        this.latents = p.at("embeddings").tensor("latents", config.numLatents(), config.dLatents());
        this.encoder = new PerceiverEncoder(p.at("encoder"), config, kvDim, latents, act);
        root.requireAllUsed();
        this.parameterCount = root.parameterCount();
        root.runDeferred();  // after the kernels' warm-up: the first pass, too, runs compiled kernels
        root.finishLoading();
        if (checkpoint != null) checkpoint.releaseResidentPages();
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
        try {
            return new Perceiver(config, new Weights(checkpoint, backend, arena, options), checkpoint, backend,
                    ownsBackend);
        } catch (RuntimeException e) {
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
     *                                that never change ({@link FactoredCrossAttention}); off runs the direct
     *                                computation, which agrees to rounding
     * @param keyBlockFloats          keys and values (floats) above which a cross-attention works a block of keys
     *                                of this size at a time, merging the blocks' softmax exactly
     */
    public record Options(int threads, String device, KernelChoice kernels, GpuOptions gpu,
                          boolean factoredCrossAttention, long keyBlockFloats) {
        public static final long DEFAULT_KEY_BLOCK_FLOATS = 16L << 20;
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
        PerceiverConfig config = PerceiverConfig.load(dir.resolve("config.json"));
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
            arena.close();
            throw e;
        }
    }

    private static int[] trainSize(PerceiverConfig c) {
        if (c.trainSize().size() != 2) throw new IllegalArgumentException("train_size must be [height, width], got " + c.trainSize());
        return new int[] {c.trainSize().get(0), c.trainSize().get(1)};
    }

    /** The image preprocessor each image head builds (constants as in the reference's head classes). */
    private static ImagePreprocessor.Spec imageSpec(Head head, PerceiverConfig c) {
        return switch (head) {
            case IMAGE_CLASSIFICATION_LEARNED -> ImagePreprocessor.Spec.of(ImagePreprocessor.PrepType.CONV1X1)
                    .downsample(1, 1).outChannels(256).trainable(256, c.imageSize() * c.imageSize(), 256);
            case IMAGE_CLASSIFICATION_FOURIER -> ImagePreprocessor.Spec.of(ImagePreprocessor.PrepType.PIXELS)
                    .downsample(1, 1).fourier(new FourierPositionEncoding(64, new int[] {224, 224}, true, false));
            case IMAGE_CLASSIFICATION_CONV -> ImagePreprocessor.Spec.of(ImagePreprocessor.PrepType.CONV)
                    .downsample(1, 1).fourier(new FourierPositionEncoding(64, new int[] {56, 56}, true, false));
            case OPTICAL_FLOW -> ImagePreprocessor.Spec.of(ImagePreprocessor.PrepType.PATCHES).downsample(1, 2)
                    .convAfterPatching(54).fourier(new FourierPositionEncoding(64, trainSize(c), true, false));
            default -> throw new IllegalStateException(head.toString());
        };
    }

    /** PerceiverClassificationDecoder: one trainable query, query residual on, logits [B, num_labels]. */
    private static BasicDecoder classificationDecoder(Weights w, PerceiverConfig c, Activation act) {
        return new BasicDecoder(w, c, BasicDecoder.Spec.of(c.numLabels(), new int[] {1}, c.dLatents())
                .attention(null, null, 1, true).trainable(c.dLatents()), act);
    }

    private static MultimodalPreprocessor multimodalPreprocessor(Weights pre, PerceiverConfig c) {
        int audioSamples = c.numFrames() * c.audioSamplesPerFrame();
        TreeMap<String, ModalityPreprocessor> modalities = new TreeMap<>();
        modalities.put("audio", new AudioPreprocessor(c.samplesPerPatch(), PositionEncoding.fourier(
                new FourierPositionEncoding(192, new int[] {audioSamples}, true, false), null), true));
        modalities.put("image", new ImagePreprocessor(pre.at("modalities").at("image"),
                ImagePreprocessor.Spec.of(ImagePreprocessor.PrepType.PATCHES).downsample(4, 1).fourier(
                        new FourierPositionEncoding(32, new int[] {c.numFrames(), c.imageSize(), c.imageSize()}, true, false))));
        modalities.put("label", new OneHotPreprocessor(c.numLabels()));
        return new MultimodalPreprocessor(pre, modalities, Map.of("image", 0.0, "audio", 0.0, "label", 1.0), 4);
    }

    private static MultimodalDecoder multimodalDecoder(Weights w, PerceiverConfig c, Activation act) {
        int audioSamples = c.numFrames() * c.audioSamplesPerFrame();
        if (c.outputShape().size() != 4)
            throw new IllegalArgumentException("output_shape must be [batch, frames, height, width], got " + c.outputShape());
        int[] video = {c.outputShape().get(1), c.outputShape().get(2), c.outputShape().get(3)};
        Weights mods = w.at("modalities");
        TreeMap<String, BasicDecoder> queries = new TreeMap<>();
        queries.put("audio", new BasicDecoder(mods.at("audio"), c, BasicDecoder.Spec.of(c.outputNumChannels(),
                new int[] {audioSamples / c.samplesPerPatch()}, 128).queriesOnly()
                .fourier(new FourierPositionEncoding(192, new int[] {audioSamples}, true, false)), act));
        queries.put("image", new BasicDecoder(mods.at("image").at("decoder"), c, BasicDecoder.Spec.of(
                c.outputNumChannels(), video, 128).queriesOnly().fourier(new FourierPositionEncoding(32,
                new int[] {c.numFrames(), c.imageSize(), c.imageSize()}, true, false)), act));
        queries.put("label", new BasicDecoder(mods.at("label").at("decoder"), c, BasicDecoder.Spec.of(c.numLabels(),
                new int[] {1}, 128).queriesOnly().trainable(c.labelTrainableNumChannels()), act));
        return new MultimodalDecoder(w, queries, 2, channels -> new BasicDecoder(w.at("decoder"), c,
                BasicDecoder.Spec.of(c.outputNumChannels(), null, channels).withoutPositionEncoding()
                        .attention(null, null, 1, false), act));
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
        if (in.hasLabels() && (head == Head.OPTICAL_FLOW || head == Head.MULTIMODAL_AUTOENCODING))
            throw new InvalidInputException("labels: " + head.architecture() + " has no training loss");
        if (!in.subsampledOutputPoints().isEmpty() && head != Head.MULTIMODAL_AUTOENCODING)
            throw new InvalidInputException("subsampled_output_points: only the multimodal model decodes a subset of its outputs");
        if (in.interpolatePosEncoding() && !interpolatesPositions())
            throw new InvalidInputException("interpolate_pos_encoding: " + head.architecture() + " has no trainable image "
                    + "position table to interpolate (only PerceiverForImageClassificationLearned takes it"
                    + (head.isImageClassifier() ? "; this head's Fourier positions follow any input size without it)" : ")"));
        Scratch scratch = idleScratch.poll();
        if (scratch == null) scratch = new Scratch();
        Run run = new Run(backend, scratch, results, ex.contains(Extra.ATTENTIONS), ex.contains(Extra.HIDDEN_STATES),
                ex.contains(Extra.TRACE));
        run.outputPositionEmbeddings = ex.contains(Extra.POSITION_EMBEDDINGS);
        long pass = run.beginSpan();
        try {
            Preprocessed pre = run.stage("preprocess", () -> preprocess(run, in));
            int batch = pre.inputs().dim(0);
            Tensor maskBias = maskBias(run, in.attentionMask(), batch, pre.inputs().dim(1));
            Tensor z = encoder.forward(run, broadcastLatents(run, batch), pre.inputs(), pre.layout(), maskBias);
            Map<String, Tensor> logits = decode(run, pre, z, in);
            Tensor loss = in.hasLabels() ? Losses.loss(run, head, config, logits.get(""), in) : null;
            Tensor last = run.keep(z), preprocessed = ex.contains(Extra.PREPROCESSED) ? run.keep(pre.inputs()) : null,
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
        return inputPreprocessor instanceof ImagePreprocessor p && p.hasTrainableImagePositions();
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

    private Preprocessed preprocess(Run run, PerceiverInputs in) {
        if (head.takesTokens()) {
            if (in.inputIds() == null) throw new InvalidInputException("inputs: " + head.architecture() + " takes token ids [batch, sequence] (int64)");
            return textPreprocessor.apply(run, in.inputIds());
        }
        if (head == Head.MULTIMODAL_AUTOENCODING) {
            if (in.modalities().isEmpty())
                throw new InvalidInputException("inputs: the multimodal model takes inputs.audio, inputs.image and inputs.label");
            Map<String, Tensor> modalities = new TreeMap<>();
            in.modalities().forEach((m, t) -> modalities.put(m, run.shared(t)));
            return multimodalPreprocessor.apply(run, modalities);
        }
        Tensor x = in.inputs();
        if (x == null) throw new InvalidInputException("inputs: " + head.architecture() + " takes a float tensor "
                + (head == Head.OPTICAL_FLOW ? "[batch, 2, 27, height, width]" : "[batch, 3, height, width]"));
        if (head == Head.OPTICAL_FLOW) {
            int[] size = trainSize(config);
            if (x.rank() != 5 || x.dim(1) != 2 || x.dim(2) != 27 || x.dim(3) != size[0] || x.dim(4) != size[1])
                throw new InvalidInputException("inputs must be [batch, 2, 27, " + size[0] + ", " + size[1]
                        + "] (two frames of 3x3 patches at the model's train_size), got " + Arrays.toString(x.shape()));
        }
        return inputPreprocessor.apply(run, run.shared(x), "inputs", in.interpolatePosEncoding());
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

    /** The head's outputs by modality ("" for single-output heads), in result memory. */
    private Map<String, Tensor> decode(Run run, Preprocessed pre, Tensor z, PerceiverInputs in) {
        int batch = z.dim(0);
        return switch (head) {
            case MULTIMODAL_AUTOENCODING -> decodeMultimodal(run, pre, z, in.subsampledOutputPoints(), in.progress());
            case OPTICAL_FLOW -> {
                Tensor flow = run.stage("decoder", () -> decoder.forward(run, pre.inputs(), z));
                yield run.stage("postprocess", () -> {
                    int[] size = trainSize(config);
                    Tensor out = run.result(batch, size[0], size[1], 2);
                    Matrix src = flow.matrix(), dst = out.reshape(-1, 2).matrix();
                    for (int r = 0; r < src.rows(); r++)
                        for (int c = 0; c < 2; c++) dst.set(r, c, src.get(r, c) / 100f);
                    return Map.of("", out);
                });
            }
            case MASKED_LM -> {
                Tensor hidden = run.stage("decoder", () -> decoder.forward(run, decoder.query(run, batch, null, null), z));
                yield run.stage("postprocess", () -> {
                    Tensor out = run.result(batch, hidden.dim(1), config.vocabSize());
                    embeddingDecoder.apply(run, hidden.matrix(), out.matrix());
                    return Map.of("", out);
                });
            }
            default -> run.stage("decoder", () -> {
                Tensor out = decoder.forward(run, decoder.query(run, batch, null, null), z);
                return Map.of("", run.keep(out.reshape(batch, out.dim(2))));
            });
        };
    }

    /**
     * Decodes the requested output points (all of them when none are given, in chunks of queries so memory stays
     * bounded; each query attends independently, so chunking does not change results).
     */
    private Map<String, Tensor> decodeMultimodal(Run run, Preprocessed pre, Tensor z, Map<String, long[]> requested,
                                                 PerceiverInputs.DecodeProgress progress) {
        int batch = z.dim(0);
        Map<String, long[]> points = new TreeMap<>();
        if (requested.isEmpty()) {
            for (String m : List.of("audio", "image"))
                points.put(m, BasicDecoder.allPoints(multimodalDecoder.modalities.get(m).spec.outputIndexDims()));
        } else {
            for (String m : List.of("audio", "image"))
                if (!requested.containsKey(m))
                    throw new InvalidInputException("subsampled_output_points." + m + " is missing (give audio and image points, or none to decode all)");
            for (String m : requested.keySet())
                if (!List.of("audio", "image", "label").contains(m))
                    throw new InvalidInputException("subsampled_output_points." + m + ": no such output modality");
            points.put("audio", requested.get("audio"));
            points.put("image", requested.get("image"));
        }
        long[] audio = points.get("audio"), image = points.get("image");
        int spp = config.samplesPerPatch();
        Tensor audioOut = run.result(batch, audio.length * spp), imageOut = run.result(batch, image.length, 3);
        Tensor labelOut = run.result(batch, config.numLabels());
        int total = audio.length + image.length + 1;
        int chunk = run.outputAttentions ? total : MULTIMODAL_QUERY_CHUNK;
        for (int s = 0; s < total; s += chunk) {
            int e = Math.min(total, s + chunk);
            int a0 = Math.min(s, audio.length), a1 = Math.min(e, audio.length);
            int i0 = Math.clamp(s - audio.length, 0, image.length), i1 = Math.clamp(e - audio.length, 0, image.length);
            boolean label = e == total;
            Map<String, long[]> chunkPoints = new TreeMap<>();
            chunkPoints.put("audio", Arrays.copyOfRange(audio, a0, a1));
            chunkPoints.put("image", Arrays.copyOfRange(image, i0, i1));
            long mark = run.scratch().mark();
            Tensor decoded = run.stage("decoder", () -> {
                Tensor q = multimodalDecoder.query(run, batch, chunkPoints, pre.withoutPos());
                if (!label) q = q.slice(1, 0, q.dim(1) - 1).copy(run.scratch());
                return multimodalDecoder.decoder.forward(run, q, z);
            });
            run.stage("postprocess", () -> {
                for (int b = 0; b < batch; b++) {
                    Matrix rows = decoded.select(0, b).matrix();
                    int na = a1 - a0, ni = i1 - i0;
                    outputPostprocessor.get("audio").apply(run, rows.rows(0, na),
                            audioOut.select(0, b).reshape(-1, spp).matrix().rows(a0, a1));
                    outputPostprocessor.get("image").apply(run, rows.rows(na, na + ni),
                            imageOut.select(0, b).matrix().rows(i0, i1));
                    if (label) outputPostprocessor.get("label").apply(run, rows.rows(na + ni, na + ni + 1),
                            labelOut.select(0, b).reshape(1, -1).matrix());
                }
                return null;
            });
            run.scratch().release(mark);
            progress.decoded(e, total);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("audio", audioOut);
        out.put("image", imageOut);
        out.put("label", labelOut);
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
