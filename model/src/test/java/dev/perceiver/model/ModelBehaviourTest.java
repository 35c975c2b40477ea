package dev.perceiver.model;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.runtime.ThreadPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** Properties the reference guarantees beyond single golden runs: batching, chunking, thread counts. */
class ModelBehaviourTest {

    @Test
    void decodingEveryMultimodalPointWithoutSubsamplingMatchesTheFullQueryReference() {
        GoldenCase c = GoldenCase.of("multimodal_full_queries");
        try (Perceiver model = c.load(Kernels.best(), 2); Checkpoint golden = c.golden(); Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> modalities = new TreeMap<>();
            for (String m : new String[] {"audio", "image", "label"}) modalities.put(m, golden.floats("inputs." + m, arena));
            PerceiverOutput out = model.forward(PerceiverInputs.ofModalities(modalities));
            for (String m : new String[] {"audio", "image", "label"})
                assertThat(GoldenCase.compare(m, out.logits().get(m), golden.floats("logits." + m, arena)).ok())
                        .as("logits.%s decoded in chunks without subsampled points", m).isTrue();
        }
    }

    @Test
    void aFolderWithOnlyPytorchModelBinGivesTheSameOutputsAsSafetensors(@TempDir Path tmp) throws Exception {
        for (String name : new String[] {"image_learned", "masked_lm"}) {
            GoldenCase c = GoldenCase.of(name);
            Path bin = Files.createDirectories(tmp.resolve(name));
            Files.copy(c.dir().resolve("config.json"), bin.resolve("config.json"));
            Files.copy(c.dir().resolve("pytorch_model.bin"), bin.resolve("pytorch_model.bin"));
            Perceiver.Options one = new Perceiver.Options(1, "cpu");
            try (Perceiver fromSafetensors = Perceiver.load(c.dir(), one); Perceiver fromPickle = Perceiver.load(bin, one);
                 Checkpoint golden = c.golden(); Arena arena = Arena.ofConfined()) {
                PerceiverInputs in = NamedInputs.read(golden, arena);
                assertThat(fromPickle.forward(in).logitsTensor().toArray()).as(name)
                        .containsExactly(fromSafetensors.forward(in).logitsTensor().toArray());
            }
        }
    }

    @Test
    void inputsFromAConfinedArenaAreReadSafelyByTheWorkerThreads() throws Exception {
        for (GoldenCase c : GoldenCase.all().toList()) {
            try (Perceiver model = c.load(Kernels.best(), 2); Checkpoint golden = c.golden();
                 Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
                PerceiverInputs in = NamedInputs.read(golden, shared);
                PerceiverInputs copy = in.inputs() != null ? PerceiverInputs.of(in.inputs().copy(confined))
                        : in.inputIds() != null ? PerceiverInputs.ofTokens(in.inputIds())
                        : PerceiverInputs.ofModalities(copies(in.modalities(), confined));
                if (in.attentionMask() != null) copy.attentionMask(in.attentionMask().copy(confined));
                in.subsampledOutputPoints().forEach(copy::subsample);
                Map<String, Tensor> want = model.forward(in).logits(), got = model.forward(copy).logits();
                for (String k : want.keySet())
                    assertThat(got.get(k).toArray()).as("%s %s", c.name(), k).containsExactly(want.get(k).toArray());
            }
        }
    }

    private static Map<String, Tensor> copies(Map<String, Tensor> tensors, Arena arena) {
        Map<String, Tensor> out = new TreeMap<>();
        tensors.forEach((k, t) -> out.put(k, t.copy(arena)));
        return out;
    }

    @Test
    void eachBatchItemGivesWhatItGivesAlone() {
        GoldenCase c = GoldenCase.of("masked_lm");
        try (Perceiver model = c.load(Kernels.best(), 2); Checkpoint golden = c.golden(); Arena arena = Arena.ofConfined()) {
            PerceiverInputs both = NamedInputs.read(golden, arena);
            Tensor batched = model.forward(both).logitsTensor();
            for (int b = 0; b < 2; b++) {
                LongTensor ids = both.inputIds();
                int n = ids.dim(1);
                long[] row = java.util.Arrays.copyOfRange(ids.data(), b * n, (b + 1) * n);
                Tensor mask = both.attentionMask().slice(0, b, b + 1).copy(arena);
                Tensor alone = model.forward(PerceiverInputs.ofTokens(LongTensor.of(row, 1, n)).attentionMask(mask)).logitsTensor();
                assertThat(alone.toArray()).as("item %d alone", b).containsExactly(batched.slice(0, b, b + 1).toArray());
            }
        }
    }

    /**
     * A layer takes the flat [B·Nq] query rows 2,048 at a time, across batch items: with the decoder's 24 queries,
     * item 85's rows start in one chunk and end in the next, and each part must attend to that item's keys alone.
     */
    @Test
    void batchItemsWhoseQueriesSpanTwoRowChunksGiveWhatTheyGiveAlone() {
        GoldenCase c = GoldenCase.of("masked_lm");
        try (Perceiver model = c.load(Kernels.best(), 2); Checkpoint golden = c.golden(); Arena arena = Arena.ofConfined()) {
            PerceiverInputs two = NamedInputs.read(golden, arena);
            LongTensor ids = two.inputIds();
            int n = ids.dim(1), batch = 90;
            assertThat(batch * c.config().maxPositionEmbeddings()).isGreaterThan(2048);
            assertThat(2048 % c.config().maxPositionEmbeddings()).isNotZero();
            long[] all = new long[batch * n];
            Tensor masks = Tensor.zeros(arena, batch, n);
            for (int b = 0; b < batch; b++) {
                System.arraycopy(ids.data(), b % 2 * n, all, b * n, n);
                masks.slice(0, b, b + 1).copyFrom(two.attentionMask().slice(0, b % 2, b % 2 + 1));
            }
            Tensor batched = model.forward(PerceiverInputs.ofTokens(LongTensor.of(all, batch, n)).attentionMask(masks))
                    .logitsTensor();
            for (int b = 0; b < 2; b++) {
                long[] row = java.util.Arrays.copyOfRange(ids.data(), b * n, (b + 1) * n);
                Tensor alone = model.forward(PerceiverInputs.ofTokens(LongTensor.of(row, 1, n))
                        .attentionMask(two.attentionMask().slice(0, b, b + 1).copy(arena))).logitsTensor();
                for (int item = b; item < batch; item += 2)
                    assertThat(batched.slice(0, item, item + 1).toArray()).as("item %d of %d", item, batch)
                            .containsExactly(alone.toArray());
            }
        }
    }

    /**
     * Bit for bit, whatever the thread count: the kernels split work by output rows, columns and heads, never along
     * a sum, so each value is computed by one thread in one order. Every output is compared, attention maps too.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.perceiver.model.GoldenTest#cases")
    void resultsDoNotDependOnTheThreadCount(GoldenCase c) {
        try (Arena arena = Arena.ofConfined()) {
            PerceiverInputs in = c.inputs(0, arena);
            Map<String, float[]> reference = null;
            for (int threads : new int[] {1, 2, 3, 8}) {
                try (Perceiver model = c.load(Kernels.best(), threads)) {
                    Map<String, float[]> out = GoldenCase.values(model.forward(in, Perceiver.Extra.values()));
                    if (reference == null) reference = out;
                    else GoldenCase.assertSameValues(reference, out, c.name() + " with " + threads + " threads");
                }
            }
        }
    }

    /** The same at sizes where every product and attention really is split into many units per thread. */
    @Test
    void resultsOfALargerModelDoNotDependOnTheThreadCount() {
        PerceiverConfig config = PerceiverConfig.fromJson("{\"architectures\": [\"PerceiverForMaskedLM\"],"
                + " \"num_latents\": 96, \"d_latents\": 256, \"d_model\": 160, \"num_blocks\": 1,"
                + " \"num_self_attends_per_block\": 2, \"num_self_attention_heads\": 8, \"num_cross_attention_heads\": 4,"
                + " \"max_position_embeddings\": 512}");
        long[] ids = new long[2 * 512];
        for (int i = 0; i < ids.length; i++) ids[i] = 6 + (i * 31L) % 256;
        PerceiverInputs in = PerceiverInputs.ofTokens(LongTensor.of(ids, 2, 512));
        Map<String, float[]> reference = null;
        for (int threads : new int[] {1, 3, 8}) {
            try (Perceiver model = Perceiver.random(config, new CpuBackend(Kernels.best(), new ThreadPool(threads)), true)) {
                Map<String, float[]> out = GoldenCase.values(model.forward(in, Perceiver.Extra.values()));
                if (reference == null) reference = out;
                else GoldenCase.assertSameValues(reference, out, "random MLM with " + threads + " threads");
            }
        }
    }

    @Test
    void scalarKernelsAgreeWithTheVectorKernelsOnEveryHead() throws Exception {
        for (GoldenCase c : GoldenCase.all().toList()) {
            try (Perceiver fast = c.load(Kernels.best(), 2); Perceiver plain = c.load(Kernels.scalar(), 1);
                 Checkpoint golden = c.golden(); Arena arena = Arena.ofConfined()) {
                PerceiverInputs in = NamedInputs.read(golden, arena);
                Map<String, Tensor> a = fast.forward(in).logits(), b = plain.forward(in).logits();
                for (String k : a.keySet())
                    assertThat(GoldenCase.compare(k, a.get(k), b.get(k)).relative()).as("%s %s", c.name(), k).isLessThan(1e-5);
            }
        }
    }
}
