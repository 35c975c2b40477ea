package dev.perceiver.model;

import dev.perceiver.ops.Matrix;
import dev.perceiver.runtime.Tensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.Function;

/**
 * transformers' PerceiverMultimodalDecoder: each modality's decoder ({@code modalities.<m>}) only builds queries,
 * padded to a common width with {@code padding.<m>} and concatenated in sorted modality order; one shared
 * {@code decoder} attends to the latents for all of them.
 */
final class MultimodalDecoder {
    final SortedMap<String, BasicDecoder> modalities;
    final Map<String, Matrix> padding = new LinkedHashMap<>();
    final BasicDecoder decoder;
    final int numQueryChannels;

    MultimodalDecoder(Weights w, SortedMap<String, BasicDecoder> modalities, int minPaddingSize,
                      Function<Integer, BasicDecoder> sharedDecoder) {
        this.modalities = modalities;
        this.numQueryChannels = modalities.values().stream().mapToInt(BasicDecoder::numQueryChannels).max().orElseThrow()
                + minPaddingSize;
        for (var e : modalities.entrySet())
            padding.put(e.getKey(), w.at("padding").tensor(e.getKey(), 1,
                    numQueryChannels - e.getValue().numQueryChannels()).matrix());
        this.decoder = sharedDecoder.apply(numQueryChannels);
    }

    /** Output points of modality m when nothing is subsampled. */
    int outputPoints(String m) {
        return Math.toIntExact(Arrays.stream(modalities.get(m).spec.outputIndexDims()).asLongStream()
                .reduce(1, Math::multiplyExact));
    }

    /** Queries [B, ΣN_m, num_query_channels] for the given points per modality (label ignores its points). */
    Tensor query(Run run, int batch, Map<String, long[]> points, Map<String, Tensor> withoutPos) {
        Map<String, Tensor> parts = new LinkedHashMap<>();
        int total = 0;
        for (var e : modalities.entrySet()) {
            Tensor q = e.getValue().query(run, batch, points.get(e.getKey()), withoutPos.get(e.getKey()));
            parts.put(e.getKey(), q);
            total += q.dim(1);
        }
        Tensor out = run.tensor(batch, total, numQueryChannels);
        for (int b = 0; b < batch; b++) {
            Matrix ob = out.select(0, b).matrix();
            int row = 0;
            for (var e : parts.entrySet()) {
                Matrix q = e.getValue().select(0, b).matrix(), dst = ob.rows(row, row + q.rows());
                row += q.rows();
                dst.cols(0, q.cols()).copyFrom(q);
                Matrix pad = padding.get(e.getKey());
                for (int r = 0; r < dst.rows(); r++) dst.row(r).cols(q.cols(), numQueryChannels).copyFrom(pad);
            }
        }
        return out;
    }
}
