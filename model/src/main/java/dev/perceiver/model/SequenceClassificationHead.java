package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.runtime.Tensor;

import java.util.Map;

/**
 * PerceiverForSequenceClassification: token ids [B, N] through the text preprocessor
 * ({@code perceiver.input_preprocessor}), the classification decoder ({@code perceiver.decoder.decoder}), logits
 * [B, num_labels]; the classifiers' problem_type losses.
 */
final class SequenceClassificationHead implements TaskHead {
    static final Task TASK = Task.CLASSIFY_TEXT;

    private final Head head;
    private final PerceiverConfig config;
    private final TextPreprocessor preprocessor;
    private final BasicDecoder decoder;

    SequenceClassificationHead(Head head, Weights root, PerceiverConfig config, Activation act) {
        this.head = head;
        this.config = config;
        Weights p = root.at("perceiver");
        this.preprocessor = new TextPreprocessor(p.at("input_preprocessor"), config);
        this.decoder = BasicDecoder.classification(p.at("decoder").at("decoder"), config, act);
    }

    @Override
    public int kvDim() {
        return preprocessor.numChannels();
    }

    @Override
    public void check(PerceiverInputs in) {
        TaskHead.refuseSubsamplingAndInterpolation(head, in, "");
    }

    @Override
    public Preprocessed preprocess(Run run, PerceiverInputs in) {
        return preprocessor.apply(run, head, in);
    }

    @Override
    public Map<String, Tensor> decode(Run run, Preprocessed pre, Tensor z, PerceiverInputs in) {
        return decoder.classify(run, z);
    }

    @Override
    public Tensor loss(Run run, Tensor logits, PerceiverInputs in) {
        return Losses.classification(run, config, logits, in);
    }
}
