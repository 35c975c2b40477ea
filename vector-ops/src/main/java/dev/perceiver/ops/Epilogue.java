package dev.perceiver.ops;

/**
 * What a matrix product does to each output before storing it: {@code c = act(a·b + bias) + residual}.
 * {@code bias} is a 1 x n row (or null); {@code residual} has the output's shape (or null) and may be the output itself.
 */
public record Epilogue(Matrix bias, Activation activation, Matrix residual) {

    public static final Epilogue NONE = new Epilogue(null, Activation.NONE, null);

    public Epilogue {
        if (activation == null) activation = Activation.NONE;
    }

    public static Epilogue bias(Matrix bias) {
        return new Epilogue(bias, Activation.NONE, null);
    }

    public Epilogue withActivation(Activation act) {
        return new Epilogue(bias, act, residual);
    }

    public Epilogue withResidual(Matrix res) {
        return new Epilogue(bias, activation, res);
    }
}
