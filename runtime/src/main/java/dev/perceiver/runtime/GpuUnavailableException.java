package dev.perceiver.runtime;

/** No usable GPU: the message is one sentence saying which library, symbol or status stood in the way. */
public final class GpuUnavailableException extends RuntimeException {
    public GpuUnavailableException(String reason) {
        super(reason);
    }
}
