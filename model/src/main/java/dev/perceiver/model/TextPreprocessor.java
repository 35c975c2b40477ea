package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;

import java.util.Arrays;
import java.util.Map;

/** transformers' PerceiverTextPreprocessor: token embedding plus learned position embedding, [B, N] ids → [B, N, d_model]. */
final class TextPreprocessor {
    final Tensor embeddings;
    final Tensor positionEmbeddings;

    TextPreprocessor(Weights w, PerceiverConfig c) {
        this.embeddings = w.at("embeddings").tensor("weight", c.vocabSize(), c.dModel());
        this.positionEmbeddings = w.at("position_embeddings").tensor("weight", c.maxPositionEmbeddings(), c.dModel());
    }

    int numChannels() {
        return embeddings.dim(1);
    }

    /** The token ids of in embedded for head, refused when absent. */
    Preprocessed apply(Run run, Head head, PerceiverInputs in) {
        if (in.inputIds() == null)
            throw new InvalidInputException("inputs: " + head.architecture() + " takes token ids [batch, sequence] (int64)");
        return apply(run, in.inputIds());
    }

    private Preprocessed apply(Run run, LongTensor ids) {
        if (ids.rank() != 2)
            throw new InvalidInputException("inputs (token ids) must be [batch, sequence], got shape " + Arrays.toString(ids.shape()));
        int batch = ids.dim(0), n = ids.dim(1), vocab = embeddings.dim(0), c = numChannels();
        if (n > positionEmbeddings.dim(0))
            throw new InvalidInputException("inputs has " + n + " tokens, the model takes at most "
                    + positionEmbeddings.dim(0) + " (max_position_embeddings)");
        Tensor withoutPos = run.tensor(batch, n, c);
        Matrix table = embeddings.matrix(), e = withoutPos.matrix();
        for (int i = 0; i < batch * n; i++) {
            long id = ids.data()[i];
            if (id < 0 || id >= vocab)
                throw new InvalidInputException("inputs[" + i / n + ", " + i % n + "] is token id " + id
                        + ", outside the vocabulary [0, " + vocab + ")");
            e.row(i).copyFrom(table.row((int) id));
        }
        Tensor out = run.tensor(batch, n, c);
        Matrix positions = positionEmbeddings.matrix().rows(0, n);
        for (int b = 0; b < batch; b++)
            run.kernels().add(run.parallel(), withoutPos.select(0, b).matrix(), positions, out.select(0, b).matrix());
        return new Preprocessed(EncoderInput.of(out, null), null, Map.of("", withoutPos));
    }
}
