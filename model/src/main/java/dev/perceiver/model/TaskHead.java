package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.runtime.Tensor;

import java.lang.foreign.SegmentAllocator;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What one head family of transformers' modeling_perceiver puts around the shared encoder: it builds its input
 * preprocessor, decoder and output postprocessor from the config and the state_dict (under the reference's names),
 * refuses the inputs it cannot take, decodes the latents into its outputs, computes its training loss, and names the
 * {@code perceiver} command that runs it. {@link Perceiver} keeps the encoder, the latents, scratch memory and the
 * model's lifecycle. A new head is one more implementation, and one {@link Head} constant naming its architecture.
 */
sealed interface TaskHead permits ImageClassificationHead, OpticalFlowHead, MultimodalAutoencodingHead, TextHead {

    /** Builds a head family's parts from root, the whole state_dict; act is the config's hidden_act. */
    @FunctionalInterface
    interface Builder {
        TaskHead build(Head head, Weights root, PerceiverConfig config, Activation act);
    }

    /** Makes a batch of random inputs (rnd null: zeros) of the size a head is normally run at ({@link SampleInputs}). */
    @FunctionalInterface
    interface Sampler {
        PerceiverInputs sample(PerceiverConfig config, int batch, SegmentAllocator alloc, SplittableRandom rnd);
    }

    /** Channels of each preprocessed input token: the encoder cross-attention's kv_dim. */
    int kvDim();

    /** Refuses, before any work, forward arguments this head does not take. */
    void check(PerceiverInputs in);

    /** The encoder's input for in (its shapes checked, naming what is wrong). */
    Preprocessed preprocess(Run run, PerceiverInputs in);

    /** The head's outputs from the latents z, by modality ("" for single-output heads), in result memory. */
    Map<String, Tensor> decode(Run run, Preprocessed pre, Tensor z, PerceiverInputs in);

    /** The reference's training loss of logits (the "" output) against in's labels; {@link #check} refuses labels where there is none. */
    default Tensor loss(Run run, Tensor logits, PerceiverInputs in) {
        throw new IllegalStateException("no training loss");
    }

    /**
     * Whether the model decodes its sample inputs once at load, so that the first pass finds the decoder's scratch
     * memory touched and its code compiled: yes unless the decoder is a large part of a pass.
     */
    default boolean decodesAtLoad() {
        return true;
    }

    /** Whether the head takes interpolate_pos_encoding: a trainable position table over a 2-D image grid. */
    default boolean interpolatesPositions() {
        return false;
    }

    /** Labels given to a head the reference trains without a loss. */
    static void refuseLabels(Head head, PerceiverInputs in) {
        if (in.hasLabels()) throw new InvalidInputException("labels: " + head.architecture() + " has no training loss");
    }

    /**
     * The checks of a head that decodes all of its outputs and has no trainable image position table: refuses
     * subsampled output points and interpolate_pos_encoding (why adds the reason to the latter).
     */
    static void refuseSubsamplingAndInterpolation(Head head, PerceiverInputs in, String why) {
        refuseSubsampling(in);
        refuseInterpolation(head, in, why);
    }

    /** Output points asked of a head that always decodes all of its outputs. */
    static void refuseSubsampling(PerceiverInputs in) {
        if (!in.subsampledOutputPoints().isEmpty())
            throw new InvalidInputException("subsampled_output_points: only the multimodal model decodes a subset of its outputs");
    }

    /** interpolate_pos_encoding asked of a head without a trainable image position table; why adds the reason. */
    static void refuseInterpolation(Head head, PerceiverInputs in, String why) {
        if (in.interpolatePosEncoding())
            throw new InvalidInputException("interpolate_pos_encoding: " + head.architecture() + " has no trainable image "
                    + "position table to interpolate (only PerceiverForImageClassificationLearned takes it" + why + ")");
    }

    /** The float input of an image-like head, refused with the layout it takes when absent. */
    static Tensor floatInputs(Head head, PerceiverInputs in, String layout) {
        if (in.inputs() == null)
            throw new InvalidInputException("inputs: " + head.architecture() + " takes a float tensor " + layout);
        return in.inputs();
    }

}
