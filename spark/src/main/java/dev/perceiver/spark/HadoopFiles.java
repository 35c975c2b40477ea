package dev.perceiver.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serial;
import java.io.Serializable;

/**
 * Reads and writes files on any file system Spark writes (HDFS, S3 through s3a://, the local disk) with Hadoop's FileSystem API
 * and the driver's Hadoop configuration, which travels to the executors with the task as Spark's own file writers
 * send it. A path without a scheme is resolved as Spark resolves its output paths (against fs.defaultFS).
 */
final class HadoopFiles implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private transient Configuration conf;

    private HadoopFiles(Configuration conf) {
        this.conf = conf;
    }

    /** On the driver: the session's Hadoop configuration, copied (later changes to it are not seen). */
    static HadoopFiles of(SparkSession spark) {
        return new HadoopFiles(new Configuration(spark.sparkContext().hadoopConfiguration()));
    }

    /** The whole file at path (a URI such as hdfs://... or s3a://..., or a path against fs.defaultFS). */
    byte[] read(String path) throws IOException {
        Path file = new Path(path);
        try (FSDataInputStream in = file.getFileSystem(conf).open(file)) {
            return in.readAllBytes();
        }
    }

    /** Creates the folder (and its parents) if missing; returns it as given. */
    String mkdirs(String dir) throws IOException {
        Path path = new Path(dir);
        path.getFileSystem(conf).mkdirs(path);
        return dir;
    }

    /**
     * Writes bytes as the file name in folder dir (made if missing), replacing one already there, and returns its
     * path: dir as given, a slash, and name. On the local file system no .crc file is written beside it (Hadoop's
     * checksum files are for its own readers; the .flo files are for anyone's).
     */
    String write(String dir, String name, byte[] bytes) throws IOException {
        Path file = new Path(dir, name);
        FileSystem fs = file.getFileSystem(conf);
        if (fs instanceof ChecksumFileSystem checksummed) fs = checksummed.getRawFileSystem();
        try (FSDataOutputStream out = fs.create(file, true)) {
            out.write(bytes);
        }
        return file.toString();
    }

    @Serial
    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        conf.write(out);
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        conf = new Configuration(false);
        conf.readFields(in);
    }
}
