package ai.chunkwise.tokenize.output;

import ai.chunkwise.pipeline.format.Manifest;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.regex.Pattern;

/** The file names this job writes inside a dataset directory; nothing else there is ours to delete. */
public final class DatasetLayout {
    /** Shard files are written here under attempt-unique names, then renamed into the dataset directory. */
    public static final String TEMP_DIR = "_chunkwise_tmp";
    public static final String MANIFEST_TMP = Manifest.FILE_NAME + ".tmp";
    private static final Pattern SHARD = Pattern.compile("shard-\\d{5,}\\.arrow");

    private DatasetLayout() {
    }

    public static String shardFileName(int shard) {
        return String.format("shard-%05d.arrow", shard);
    }

    /** Whether a file name in the output directory belongs to a (possibly incomplete) dataset of this job. */
    public static boolean isOurs(String name) {
        return name.equals(Manifest.FILE_NAME) || name.equals(MANIFEST_TMP) || name.equals(TEMP_DIR)
                || SHARD.matcher(name).matches()
                // Hadoop's local file system writes .name.crc side files unless told not to
                || (name.startsWith(".") && name.endsWith(".crc") && isOurs(name.substring(1, name.length() - 4)));
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
