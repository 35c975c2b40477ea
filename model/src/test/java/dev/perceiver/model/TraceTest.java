package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Kernels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Extra.TRACE: the spans of one pass, nested per thread, without changing what the pass computes. */
class TraceTest {

    @ParameterizedTest
    @ValueSource(strings = {"masked_lm", "image_conv", "multimodal"})
    void aTracedPassRecordsNestedStagesLayersAndKernelsAndComputesTheSame(String name) {
        GoldenCase golden = GoldenCase.of(name);
        PerceiverConfig c = golden.config();
        try (Perceiver model = golden.load(Kernels.best(), 2); Arena arena = Arena.ofConfined()) {
            PerceiverInputs in = golden.inputs(0, arena);
            PerceiverOutput plain = model.forward(in), traced = model.forward(in, Perceiver.Extra.TRACE);
            assertThat(plain.trace()).isEmpty();
            GoldenCase.assertSameValues(GoldenCase.values(plain), GoldenCase.values(traced), name + " traced");

            List<TraceEvent> events = traced.trace();
            List<TraceEvent> pass = of(events, TraceEvent.PASS);
            assertThat(pass).singleElement().extracting(TraceEvent::name).isEqualTo("forward");
            TraceEvent forward = pass.getFirst();
            assertThat(forward.startNanos()).isNotNegative();
            for (TraceEvent e : events) {
                assertThat(e.durationNanos()).as(e.toString()).isNotNegative();
                if (e != forward) assertThat(enclosing(events, e)).as("what encloses " + e).isNotNull();
            }
            // Stages: the ones the pass reports, each once, inside the pass; their times are the reported ones.
            List<TraceEvent> stages = of(events, TraceEvent.STAGE);
            Map<String, Long> stageNanos = traced.stageNanos();
            assertThat(stages.stream().map(TraceEvent::name).distinct()).containsExactlyInAnyOrderElementsOf(stageNanos.keySet());
            for (String stage : stageNanos.keySet())
                assertThat(stages.stream().filter(s -> s.name().equals(stage)).mapToLong(TraceEvent::durationNanos).sum())
                        .isEqualTo(stageNanos.get(stage));
            for (TraceEvent s : stages) assertThat(enclosing(events, s)).isEqualTo(forward);

            // Blocks and layers: every self-attention layer once per block, inside its block, inside latent_blocks.
            List<TraceEvent> blocks = of(events, TraceEvent.BLOCK);
            assertThat(blocks).extracting(TraceEvent::name)
                    .containsExactlyElementsOf(java.util.stream.IntStream.range(0, c.numBlocks()).mapToObj(b -> "latent block " + b).toList());
            for (TraceEvent b : blocks) assertThat(enclosing(events, b).name()).isEqualTo("latent_blocks");
            List<TraceEvent> selfAttends = of(events, TraceEvent.LAYER).stream()
                    .filter(l -> l.name().startsWith("perceiver.encoder.self_attends.")).toList();
            assertThat(selfAttends).hasSize(c.numBlocks() * c.numSelfAttendsPerBlock());
            for (int i = 0; i < selfAttends.size(); i++) {
                assertThat(selfAttends.get(i).name()).isEqualTo("perceiver.encoder.self_attends." + i % c.numSelfAttendsPerBlock());
                assertThat(enclosing(events, selfAttends.get(i))).isEqualTo(blocks.get(i / c.numSelfAttendsPerBlock()));
            }
            assertThat(of(events, TraceEvent.LAYER)).anySatisfy(l -> {
                assertThat(l.name()).startsWith("perceiver.encoder.cross_attention");
                assertThat(enclosing(events, l).name()).isEqualTo("encoder_cross_attention");
            });

            // Kernels: inside a layer or a stage, with their sizes; every layer ran linear, layer-norm and attention calls.
            List<TraceEvent> kernels = of(events, TraceEvent.KERNEL);
            for (TraceEvent k : kernels) {
                assertThat(enclosing(events, k).category()).isIn(TraceEvent.LAYER, TraceEvent.STAGE);
                if (k.name().equals("linear")) assertThat(k.args()).containsOnlyKeys("m", "k", "n");
            }
            for (TraceEvent l : selfAttends)
                assertThat(kernels.stream().filter(k -> enclosing(events, k) == l).map(TraceEvent::name).distinct())
                        .contains("linear", "layer_norm", "attention");
            if (name.equals("image_conv"))
                assertThat(kernels).anySatisfy(k -> {
                    assertThat(k.name()).isEqualTo("conv2d");
                    assertThat(enclosing(events, k).name()).isEqualTo("preprocess");
                });
        }
    }

    private static List<TraceEvent> of(List<TraceEvent> events, String category) {
        return events.stream().filter(e -> e.category().equals(category)).toList();
    }

    /** The innermost other span of e's thread that contains it, or null. */
    private static TraceEvent enclosing(List<TraceEvent> events, TraceEvent e) {
        TraceEvent best = null;
        for (TraceEvent o : events) {
            if (o == e || !o.thread().equals(e.thread())) continue;
            boolean contains = o.startNanos() <= e.startNanos()
                    && e.startNanos() + e.durationNanos() <= o.startNanos() + o.durationNanos();
            if (contains && (best == null || o.durationNanos() < best.durationNanos())) best = o;
        }
        return best;
    }
}
