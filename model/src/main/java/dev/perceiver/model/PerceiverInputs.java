package dev.perceiver.model;

import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one forward pass takes, named as the reference's forward arguments: {@code inputs} (float pixels, patches or
 * audio, or token ids), per-modality inputs for the multimodal head, {@code attention_mask}, per-modality
 * {@code subsampled_output_points}, {@code labels} (class indices or float targets) and
 * {@code interpolate_pos_encoding}.
 */
public final class PerceiverInputs {
    private Tensor inputs;
    private LongTensor inputIds;
    private final Map<String, Tensor> modalities = new TreeMap<>();
    private Tensor attentionMask;
    private final Map<String, long[]> subsampledOutputPoints = new TreeMap<>();
    private LongTensor labelIndices;
    private Tensor labelValues;
    private boolean interpolatePosEncoding;
    private DecodeProgress progress = (done, total) -> {};

    /** Told how many output points are decoded as a pass decodes them chunk by chunk (the multimodal model). */
    @FunctionalInterface
    public interface DecodeProgress {
        void decoded(long done, long total);
    }

    private PerceiverInputs() {}

    /** Float inputs: pixels [B, C, H, W], flow patches [B, 2, 27, H, W]. */
    public static PerceiverInputs of(Tensor inputs) {
        PerceiverInputs in = new PerceiverInputs();
        in.inputs = inputs;
        return in;
    }

    /** Token ids [B, N] for the language heads. */
    public static PerceiverInputs ofTokens(LongTensor inputIds) {
        PerceiverInputs in = new PerceiverInputs();
        in.inputIds = inputIds;
        return in;
    }

    /** One tensor per modality for the multimodal head (audio, image, label). */
    public static PerceiverInputs ofModalities(Map<String, Tensor> modalities) {
        PerceiverInputs in = new PerceiverInputs();
        in.modalities.putAll(modalities);
        return in;
    }

    /** 1 for tokens to attend to, 0 for padding: [B, N] (or [B, num_latents, N]). */
    public PerceiverInputs attentionMask(Tensor mask) {
        this.attentionMask = mask;
        return this;
    }

    /** Flat indices of the output points of a modality to decode (the rest are skipped). */
    public PerceiverInputs subsample(String modality, long[] points) {
        subsampledOutputPoints.put(modality, points.clone());
        return this;
    }

    /** Class indices: [B] for classifiers, [B, N] for masked language modelling (-100 = ignore). */
    public PerceiverInputs labels(LongTensor classIndices) {
        this.labelIndices = classIndices;
        this.labelValues = null;
        return this;
    }

    /** Float targets: regression values or multi-label 0/1 vectors. */
    public PerceiverInputs labels(Tensor values) {
        this.labelValues = values;
        this.labelIndices = null;
        return this;
    }

    /**
     * transformers 4.42–4.44's {@code interpolate_pos_encoding} (default false), for
     * PerceiverForImageClassificationLearned only: its trained position table (a √N x √N grid) is resized with
     * PyTorch's bicubic interpolation to the input's height x width, so the model takes images of any size. As in
     * those versions the scale factor is {@code (H + 0.1) / √N} per axis, so even an input of the training size gets
     * a slightly resampled table. The other heads refuse it (the Fourier and conv classifiers' positions follow the
     * input's grid without it).
     */
    public PerceiverInputs interpolatePosEncoding(boolean interpolate) {
        this.interpolatePosEncoding = interpolate;
        return this;
    }

    public boolean interpolatePosEncoding() {
        return interpolatePosEncoding;
    }

    /** Reports decoding progress of long passes (a whole video's reconstruction) to listener. */
    public PerceiverInputs onProgress(DecodeProgress listener) {
        this.progress = listener;
        return this;
    }

    public DecodeProgress progress() {
        return progress;
    }

    public Tensor inputs() {
        return inputs;
    }

    public LongTensor inputIds() {
        return inputIds;
    }

    public Map<String, Tensor> modalities() {
        return Collections.unmodifiableMap(modalities);
    }

    public Tensor attentionMask() {
        return attentionMask;
    }

    public Map<String, long[]> subsampledOutputPoints() {
        return Collections.unmodifiableMap(subsampledOutputPoints);
    }

    public LongTensor labelIndices() {
        return labelIndices;
    }

    public Tensor labelValues() {
        return labelValues;
    }

    public boolean hasLabels() {
        return labelIndices != null || labelValues != null;
    }
}
