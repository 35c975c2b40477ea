package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.runtime.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * transformers' PerceiverAudioPreprocessor (prep "patches"): [B, T, 1] or [B, T] samples → patches of
 * samples_per_patch, then positions over the patch index.
 */
final class AudioPreprocessor implements ModalityPreprocessor {
    private final int samplesPerPatch;
    private final boolean concatPos;
    private final PositionEncoding positionEmbeddings;

    AudioPreprocessor(int samplesPerPatch, PositionEncoding positionEmbeddings, boolean concatPos) {
        this.samplesPerPatch = samplesPerPatch;
        this.positionEmbeddings = positionEmbeddings;
        this.concatPos = concatPos;
    }

    @Override
    public int numChannels() {
        return concatPos ? samplesPerPatch + positionEmbeddings.outputSize() : positionEmbeddings.outputSize();
    }

    @Override
    public Preprocessed apply(Run run, Tensor x, String name) {
        ModalityPreprocessor.requireRank(x, name, "[batch, samples, 1] or [batch, samples]", 2, 3);
        if (x.rank() == 3 && x.dim(2) != 1)
            throw new InvalidInputException(name + " must be [batch, samples, 1], got " + Arrays.toString(x.shape()));
        int batch = x.dim(0), samples = x.dim(1);
        if (samples % samplesPerPatch != 0)
            throw new InvalidInputException(name + " has " + samples + " samples, not a multiple of samples_per_patch "
                    + samplesPerPatch);
        int n = samples / samplesPerPatch;
        Tensor flat = x.isContiguous() ? x : x.copy(run.scratch());
        return ModalityPreprocessor.withPositions(run, batch, n, samplesPerPatch,
                positionEmbeddings.forGrid(run, new int[] {n}, name), concatPos, false, name, List.of("audio", n),
                dest -> dest.copyFrom(flat.reshape(batch * n, samplesPerPatch).matrix()));
    }
}
