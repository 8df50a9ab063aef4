package ai.chunkwise.pipeline.format;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Where a dataset lives: any Hadoop file system path, resolved the way tokenize-job resolves its --output (a
 * plain path is on the configuration's default file system, relative to its working directory: the local
 * directory for {@code java -jar}; {@code file:}, {@code hdfs://}, {@code s3a://} ... name their file system).
 * So the path tokenize-job prints at its end ({@code file:/...} or {@code hdfs://...}) is accepted as it is.
 */
public final class DatasetLocation {
    private DatasetLocation() {
    }

    /** The Hadoop configuration of the environment: core-site.xml / hdfs-site.xml found on the class path. */
    public static Configuration environmentConfiguration() {
        return new Configuration();
    }

    /** {@code location} made absolute and qualified with its file system's scheme and authority. */
    public static Path qualify(String location, Configuration conf) {
        if (location == null || location.isBlank()) {
            throw new DatasetException("no dataset path given");
        }
        Path raw;
        try {
            raw = new Path(location.trim());
        } catch (IllegalArgumentException e) {
            throw new DatasetException("dataset path '" + location + "' is not a valid path: " + e.getMessage(), e);
        }
        return fileSystem(raw, conf).makeQualified(raw);
    }

    /** A local directory as a qualified {@code file:} path (independent of the default file system). */
    public static Path local(java.nio.file.Path dir) {
        return new Path(dir.toAbsolutePath().normalize().toUri());
    }

    public static FileSystem fileSystem(Path path, Configuration conf) {
        try {
            return path.getFileSystem(conf);
        } catch (IOException | RuntimeException e) {
            throw new DatasetException("cannot open the file system of " + path + " (" + e.getMessage() + "); check the "
                    + "scheme and that its Hadoop client (e.g. hadoop-aws for s3a://) and configuration are on the class path", e);
        }
    }

    /** How a path is shown in messages: a plain path for the local file system, the full URI otherwise. */
    public static String display(Path path) {
        return "file".equals(path.toUri().getScheme()) ? path.toUri().getPath() : path.toString();
    }

    /** True if {@code location} is on the local file system (plain path or {@code file:}) under {@code conf}. */
    public static boolean isLocal(String location, Configuration conf) {
        return "file".equals(qualify(location, conf).toUri().getScheme());
    }

    static UncheckedIOException io(String what, IOException e) {
        return new UncheckedIOException(what + ": " + e.getMessage(), e);
    }
}
