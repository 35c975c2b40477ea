package dev.perceiver.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;

/** One candidate class: its index, label, raw logit and softmax score. */
public record Prediction(int index, String label, float logit, double score) implements Serializable {
    /** The struct of each element of a {@code top} column. */
    public static final StructType SCHEMA = new StructType()
            .add("index", DataTypes.IntegerType, false)
            .add("label", DataTypes.StringType, true)
            .add("logit", DataTypes.FloatType, false)
            .add("score", DataTypes.DoubleType, false);

    Row row() {
        return RowFactory.create(index, label, logit, score);
    }
}
