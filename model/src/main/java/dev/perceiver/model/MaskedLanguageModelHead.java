package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Activation;
import dev.perceiver.runtime.Tensor;

import java.util.Map;

/**
 * PerceiverForMaskedLM: token ids [B, N] through the text preprocessor ({@code perceiver.input_preprocessor}), a
 * decoder with one query per position ({@code perceiver.decoder}), then {@code embedding_decoder}, the token
 * embeddings tied as the output projection: logits [B, max_position_embeddings, vocab_size]; cross-entropy loss.
 */
final class MaskedLanguageModelHead extends TextHead {
    static final Task TASK = Task.FILL_MASK;

    private final BasicDecoder decoder;
    private final Linear embeddingDecoder;

    MaskedLanguageModelHead(Head head, Weights root, PerceiverConfig config, Activation act) {
        super(head, root, config);
        Weights p = root.at("perceiver");
        int kvDim = preprocessor.numChannels();
        // 8 heads with 8·32 query/key channels, one query per position.
        this.decoder = new BasicDecoder(p.at("decoder"), config,
                BasicDecoder.Spec.of(config.dLatents(), new int[] {config.maxPositionEmbeddings()}, kvDim)
                        .attention(8 * 32, kvDim, 8, false).finalProject(false).trainable(kvDim), act);
        this.embeddingDecoder = new Linear(root.backend().prepareLinear(preprocessor.embeddings.matrix(),
                root.at("embedding_decoder").row("bias", config.vocabSize()), root.arena()));
    }

    @Override
    public Map<String, Tensor> decode(Run run, Preprocessed pre, Tensor z, PerceiverInputs in) {
        int batch = z.dim(0);
        Tensor hidden = run.stage("decoder", () -> decoder.forward(run, decoder.query(run, batch, null, null), z));
        return run.stage("postprocess", () -> {
            Tensor out = run.result(batch, hidden.dim(1), config.vocabSize());
            embeddingDecoder.apply(run, hidden.matrix(), out.matrix());
            return Map.of("", out);
        });
    }

    @Override
    public Tensor loss(Run run, Tensor logits, PerceiverInputs in) {
        return Losses.maskedLanguageModelling(run, logits, in);
    }
}
