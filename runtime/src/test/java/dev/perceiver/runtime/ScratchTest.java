package dev.perceiver.runtime;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScratchTest {

    @Test
    void anAllocationLargerThanTheMachinesMemoryIsRefusedBeforeItIsTried() {
        try (Scratch scratch = new Scratch()) {
            assertThatThrownBy(() -> scratch.allocate(Scratch.MAX_ALLOCATION_BYTES + 1, 64))
                    .isExactlyInstanceOf(AllocationTooLargeException.class)
                    .hasMessageEndingWith("of memory this machine has")
                    .satisfies(e -> assertThat(((AllocationTooLargeException) e).bytes())
                            .isEqualTo(Scratch.MAX_ALLOCATION_BYTES + 1));
            assertThat(scratch.reservedBytes()).as("nothing reserved for the refused allocation").isZero();
            // Refused sizes leave it usable.
            assertThat(scratch.allocate(1024, 64).byteSize()).isEqualTo(1024);
        }
        assertThat(Scratch.MAX_ALLOCATION_BYTES).as("a real machine's memory").isBetween(1L << 28, Long.MAX_VALUE - 1);
    }
}
