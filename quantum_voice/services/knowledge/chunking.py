"""Cuts parsed blocks into passages for retrieval, following the document's structure.

A chunk never spans two sections unless the first is tiny; it closes at a paragraph end once it reaches
``target_tokens``, never grows past ``max_tokens``, and starts with the last sentence of the chunk before it
(``overlap_tokens``) when a section is cut in several. Each chunk keeps the page and section it starts at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quantum_voice.services.knowledge.parsing import HEADING, TABLE, Block
from quantum_voice.services.knowledge.text import count_tokens, split_sentences

HEADING_MARK = "## "  # starts a heading line inside a chunk's text (a tiny section sharing the chunk)
TARGET_TOKENS = 200
MAX_TOKENS = 320
MIN_SECTION_TOKENS = 30  # a section shorter than this shares its chunk with the next one
OVERLAP_TOKENS = 40


@dataclass
class ChunkDraft:
    text: str
    page: int | None
    section: str | None
    token_count: int

    @property
    def embedding_text(self) -> str:
        """What the embedder sees: the section path gives short passages their context."""
        return f"{self.section}\n{self.text}" if self.section else self.text


@dataclass
class _Unit:
    text: str
    tokens: int
    page: int | None
    is_heading: bool = False
    new_line: bool = False  # first sentence of a paragraph, or a table row


@dataclass
class _Open:
    units: list[_Unit] = field(default_factory=list)
    section: str | None = None
    overlap: int = 0  # how many leading units repeat the previous chunk

    @property
    def tokens(self) -> int:
        return sum(u.tokens for u in self.units)

    @property
    def new_tokens(self) -> int:
        return sum(u.tokens for u in self.units[self.overlap:])


class Chunker:
    def __init__(self, target_tokens: int = TARGET_TOKENS, max_tokens: int = MAX_TOKENS,
                 overlap_tokens: int = OVERLAP_TOKENS, min_section_tokens: int = MIN_SECTION_TOKENS):
        self.target, self.max = target_tokens, max_tokens
        self.overlap, self.min_section = overlap_tokens, min_section_tokens

    def chunk(self, blocks: list[Block]) -> list[ChunkDraft]:
        chunks: list[ChunkDraft] = []
        current = _Open()
        for block in blocks:
            if block.kind == HEADING:
                if current.new_tokens >= self.min_section:
                    self._close(chunks, current)
                    current = _Open(section=block.section)
                elif current.new_tokens:  # tiny section: keep going, but show where the next one starts
                    title = HEADING_MARK + block.text  # marked, so an answer never reads a heading out
                    current.units.append(_Unit(title, count_tokens(block.text), block.page, True, True))
                else:  # nothing new yet: a new section never starts with the previous one's overlap
                    current = _Open(section=block.section)
                continue
            if current.section is None and not current.units:
                current.section = block.section
            for unit in self._units(block):
                if current.tokens + unit.tokens > self.max and current.new_tokens:
                    current = self._cut(chunks, current)
                if current.tokens + unit.tokens > self.max:  # no room for the overlap next to this unit
                    current = _Open(section=current.section)
                current.units.append(unit)
            if current.new_tokens >= self.target:
                current = self._cut(chunks, current)
        self._close(chunks, current)
        return chunks

    def _units(self, block: Block) -> list[_Unit]:
        pieces = block.text.split("\n") if block.kind == TABLE else split_sentences(block.text)
        units: list[_Unit] = []
        for index, piece in enumerate(pieces):
            for part in self._split_long(piece):
                new_line = block.kind == TABLE or (index == 0 and not units)
                units.append(_Unit(part, count_tokens(part), block.page, new_line=new_line))
        return units

    def _split_long(self, sentence: str) -> list[str]:
        if count_tokens(sentence) <= self.max:
            return [sentence]
        words, parts, size = sentence.split(), [], max(self.max * 2 // 3, 1)
        for start in range(0, len(words), size):
            parts.append(" ".join(words[start : start + size]))
        return parts

    def _cut(self, chunks: list[ChunkDraft], current: _Open) -> _Open:
        """Close ``current`` and open the next chunk of the same section, starting with a little overlap."""
        self._close(chunks, current)
        carried: list[_Unit] = []
        for unit in reversed(current.units[current.overlap:]):
            if unit.is_heading or sum(u.tokens for u in carried) + unit.tokens > self.overlap:
                break
            carried.insert(0, unit)
        return _Open(units=carried, section=current.section, overlap=len(carried))

    @staticmethod
    def _close(chunks: list[ChunkDraft], current: _Open) -> None:
        if not current.new_tokens:
            return
        text = "\n".join(_join_units(current.units))
        first_new = current.units[current.overlap] if current.overlap < len(current.units) else current.units[0]
        chunks.append(ChunkDraft(text, first_new.page, current.section, count_tokens(text)))


def _join_units(units: list[_Unit]) -> list[str]:
    """Sentences of one paragraph on one line; headings and table rows on their own lines."""
    lines: list[str] = []
    for unit in units:
        if unit.new_line or not lines:
            lines.append(unit.text)
        else:
            lines[-1] = f"{lines[-1]} {unit.text}"
    return lines


def chunk_blocks(blocks: list[Block]) -> list[ChunkDraft]:
    return Chunker().chunk(blocks)
