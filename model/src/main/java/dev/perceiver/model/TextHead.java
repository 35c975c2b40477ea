package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;

/**
 * What the two text head families share: token ids [B, N] through the text preprocessor
 * ({@code perceiver.input_preprocessor}), every output decoded, no image position table.
 */
abstract sealed class TextHead implements TaskHead permits MaskedLanguageModelHead, SequenceClassificationHead {
    final Head head;
    final PerceiverConfig config;
    final TextPreprocessor preprocessor;

    TextHead(Head head, Weights root, PerceiverConfig config) {
        this.head = head;
        this.config = config;
        this.preprocessor = new TextPreprocessor(root.at("perceiver").at("input_preprocessor"), config);
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
}
