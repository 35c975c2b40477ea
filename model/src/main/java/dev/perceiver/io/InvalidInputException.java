package dev.perceiver.io;

/** An input the model cannot take; the message names the input and the shape or values it needs. */
public class InvalidInputException extends IllegalArgumentException {
    public InvalidInputException(String message) {
        super(message);
    }
}
