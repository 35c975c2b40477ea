package dev.perceiver.model;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;

class StagingTest {
    @Test
    void releaseReusesTheMemoryOfWhatCameAfterTheMarkAndKeepsWhatCameBefore() {
        Staging s = new Staging();
        try {
            MemorySegment kept = s.allocate(7);
            kept.setAtIndex(ValueLayout.JAVA_FLOAT, 6, 42f);
            Staging.Mark mark = s.mark();
            MemorySegment first = s.allocate(33);
            s.release(mark);
            MemorySegment again = s.allocate(33);
            assertThat(again.address()).isEqualTo(first.address());
            assertThat(again.byteSize()).isEqualTo(33 * Float.BYTES);
            assertThat(again.address() % 64).isZero();
            assertThat(kept.getAtIndex(ValueLayout.JAVA_FLOAT, 6)).isEqualTo(42f);
        } finally {
            s.close();
        }
    }

    @Test
    void aLargerRequestStartsANewChunkAndOlderSlicesStayValid() {
        Staging s = new Staging();
        try {
            MemorySegment small = s.allocate(1);
            small.setAtIndex(ValueLayout.JAVA_FLOAT, 0, 1.5f);
            Staging.Mark mark = s.mark();
            MemorySegment big = s.allocate(1000);
            big.setAtIndex(ValueLayout.JAVA_FLOAT, 999, 2.5f);
            assertThat(small.getAtIndex(ValueLayout.JAVA_FLOAT, 0)).isEqualTo(1.5f);
            s.release(mark);
            // the new chunk held nothing older than the mark, so it is reused from its start
            assertThat(s.allocate(1000).address()).isEqualTo(big.address());
            assertThat(small.getAtIndex(ValueLayout.JAVA_FLOAT, 0)).isEqualTo(1.5f);
        } finally {
            s.close();
        }
    }
}
