package ai.chunkwise.tokenize.shard;

import ai.chunkwise.pipeline.tokenizer.SpecialTokenNames;
import ai.chunkwise.pipeline.tokenizer.TextTokenizer;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.tokenize.input.InputFormat;
import ai.chunkwise.tokenize.input.RawRecord;
import ai.chunkwise.tokenize.input.RecordDecoder;
import ai.chunkwise.tokenize.input.SkipReason;
import ai.chunkwise.tokenize.input.SourceRecord;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.TaskCompletionListener;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import scala.Tuple2;

import java.util.Iterator;

/**
 * Decodes and tokenizes one Spark partition of documents with ONE tokenizer (loading a tokenizer per row would
 * cost more than tokenizing), and keys every document for its shard.
 */
public final class DocumentTokenizer implements PairFlatMapFunction<Iterator<RawRecord>, ShardKey, TokenizedDocument> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<ResolvedTokenizer> tokenizerSource;
    private final String expectedVocabHash;
    private final ShardAssigner assigner;
    private final String format;
    private final String textField;

    /** @param tokenizerSource broadcast by the driver: each executor fetches an hf: tokenizer's file once */
    public DocumentTokenizer(InputFormat format, String textField, Broadcast<ResolvedTokenizer> tokenizerSource,
                             TokenizerInfo expected, ShardAssigner assigner) {
        this.format = format.configName();
        this.textField = textField;
        this.tokenizerSource = tokenizerSource;
        this.expectedVocabHash = expected.vocabHash();
        this.assigner = assigner;
    }

    @Override
    public Iterator<Tuple2<ShardKey, TokenizedDocument>> call(Iterator<RawRecord> records) {
        RecordDecoder decoder = new RecordDecoder(InputFormat.parse(format), textField);
        TextTokenizer tokenizer = tokenizerSource.value().open();
        // closed when the task ends, whether it succeeds or fails
        TaskContext.get().addTaskCompletionListener((TaskCompletionListener) ctx -> tokenizer.close());
        if (!tokenizer.info().vocabHash().equals(expectedVocabHash)) {
            throw new IllegalStateException("tokenizer " + tokenizerSource.value().spec() + " on this executor has vocabulary hash "
                    + tokenizer.info().vocabHash() + " but the driver's has " + expectedVocabHash
                    + "; every executor must see the same tokenizer file");
        }
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return records.hasNext();
            }

            @Override
            public Tuple2<ShardKey, TokenizedDocument> next() {
                SourceRecord r = decoder.decode(records.next());
                ShardKey key = assigner.keyOf(r.file(), r.index());
                if (r.skipReason() != null) {
                    return new Tuple2<>(key, TokenizedDocument.skipped(r.skipReason()));
                }
                int[] tokens = tokenizer.encode(r.text());
                if (tokens.length == 0) {
                    return new Tuple2<>(key, TokenizedDocument.skipped(SkipReason.EMPTY.key()));
                }
                return new Tuple2<>(key, TokenizedDocument.of(tokens));
            }
        };
    }
}
