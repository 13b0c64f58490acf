extension JournalWriterOptions {
    /// The smallest block buffer for `slotSize`-byte records: a block header, one record and one
    /// alignment unit of slack, rounded up to the O_DIRECT alignment (8 KiB for 64-byte records).
    /// `record --block-kb` checks its argument against this before attaching to any ring.
    public static func minimumBlockBytes(slotSize: Int) -> Int {
        JournalFormat.roundUp(
            JournalFormat.blockHeaderSize + slotSize + JournalFormat.alignment,
            JournalFormat.alignment
        )
    }
}
