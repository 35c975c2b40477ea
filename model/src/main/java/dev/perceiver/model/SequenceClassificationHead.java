package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.runtime.Tensor;

import java.util.Map;

/**
 * PerceiverForSequenceClassification: token ids [B, N] through the text preprocessor ({@link TextHead}), the
 * classification decoder ({@code perceiver.decoder.decoder}), logits [B, num_labels]; the classifiers' problem_type
 * losses.
 */
final class SequenceClassificationHead extends TextHead {
    static final Task TASK = Task.CLASSIFY_TEXT;

    private final BasicDecoder decoder;

    SequenceClassificationHead(Head head, Weights root, PerceiverConfig config, Activation act) {
        super(head, root, config);
        Weights p = root.at("perceiver");
        this.decoder = BasicDecoder.classification(p.at("decoder").at("decoder"), config, act);
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
