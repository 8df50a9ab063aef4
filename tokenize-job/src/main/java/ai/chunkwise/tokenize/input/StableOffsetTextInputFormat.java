package ai.chunkwise.tokenize.input;

import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.mapreduce.JobContext;
import org.apache.hadoop.mapreduce.lib.input.TextInputFormat;

/**
 * Hadoop's line reader, with each line keyed by its byte offset in the decompressed file.
 *
 * <p>Uncompressed files still split (the key is then the exact byte offset). Compressed files are never
 * split: for splittable codecs (bzip2) the line reader's keys restart per split and are not unique, and a
 * document's key must not depend on how the input was split.
 */
public class StableOffsetTextInputFormat extends TextInputFormat {
    @Override
    protected boolean isSplitable(JobContext context, Path file) {
        return new CompressionCodecFactory(context.getConfiguration()).getCodec(file) == null;
    }
}
