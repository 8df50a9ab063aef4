package ai.chunkwise.tokenize.output;

import ai.chunkwise.pipeline.format.DatasetVersion;
import ai.chunkwise.pipeline.format.Manifest;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.regex.Pattern;

/**
 * The names this job writes inside a dataset directory; nothing else there is ours to delete.
 * <pre>
 * manifest.json          the newest complete version (written last, atomically)
 * _SUCCESS               completion marker for schedulers, as Hadoop jobs write it (after manifest.json;
 *                        written as _SUCCESS.tmp and renamed, so it is never empty or partial)
 * v0001/shard-NNNNN.arrow  immutable shards added by version 1 (v0002/ by version 2, ...)
 * versions/v0001.json    every published version's manifest, kept for readers of older versions
 * _chunkwise_tmp/        shards being written (attempt-unique names)
 * </pre>
 */
public final class DatasetLayout {
    /** Shard files are written here under attempt-unique names, then renamed into their version directory. */
    public static final String TEMP_DIR = "_chunkwise_tmp";
    public static final String MANIFEST_TMP = Manifest.FILE_NAME + ".tmp";
    /** Hadoop's completion marker (FileOutputCommitter writes the same name). */
    public static final String SUCCESS = "_SUCCESS";
    public static final String SUCCESS_TMP = SUCCESS + ".tmp";
    private static final Pattern SHARD = Pattern.compile("shard-\\d{5,}\\.arrow");

    private DatasetLayout() {
    }

    public static String shardFileName(int shard) {
        return String.format("shard-%05d.arrow", shard);
    }

    /** Whether a file name in the output directory belongs to a (possibly incomplete) dataset of this job. */
    public static boolean isOurs(String name) {
        return name.equals(Manifest.FILE_NAME) || name.equals(MANIFEST_TMP) || name.equals(TEMP_DIR)
                || name.equals(SUCCESS) || name.equals(SUCCESS_TMP) || name.equals(DatasetVersion.VERSIONS_DIR)
                || DatasetVersion.numberOf(name) > 0 && !name.endsWith(".json")
                || isLegacyShard(name)
                // Hadoop's local file system writes .name.crc side files unless told not to
                || (name.startsWith(".") && name.endsWith(".crc") && isOurs(name.substring(1, name.length() - 4)));
    }

    /** A shard at the top of the directory, as datasets were laid out before versions. */
    static boolean isLegacyShard(String name) {
        return SHARD.matcher(name).matches();
    }

    /** The file system of a dataset path, without Hadoop's .crc side files on the local file system. */
    public static FileSystem fileSystem(Path path, Configuration conf) {
        try {
            FileSystem fs = path.getFileSystem(conf);
            fs.setWriteChecksum(false);
            return fs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the file system of " + path + ": " + e.getMessage(), e);
        }
    }
}
