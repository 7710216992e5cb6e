"""The Indonesian words staff read for each code the store keeps."""

from __future__ import annotations

VERDICTS = {
    "breach": "Dugaan pelanggaran",
    "advisory": "Imbauan / sosialisasi",
    "other": "Bukan temuan",
}
STATUSES = {"open": "Belum ditinjau", "confirmed": "Terkonfirmasi", "dismissed": "Ditolak"}
REASONS = {
    "not_asn": "Bukan ASN / bukan pihak yang wajib netral",
    "not_neutrality": "Bukan pelanggaran netralitas",
    "wrong_person": "Salah orang",
    "advisory_only": "Hanya imbauan",
    "duplicate": "Duplikat",
    "other": "Lainnya",
}
FOLLOW_UPS = {
    "under_study": "Dalam kajian",
    "recommendation_sent": "Rekomendasi dikirim",
    "closed": "Selesai",
}
ACTIONS = {
    "confirm": "Dikonfirmasi",
    "dismiss": "Ditolak",
    "duplicate": "Ditandai duplikat",
    "note": "Catatan",
    "follow_up": "Tindak lanjut",
}
SORTS = {
    "serious": "Paling serius",
    "newest": "Terbaru",
    "oldest": "Terlama",
}
CRAWL_STATUSES = {
    "ok": "baik",
    "partial": "sebagian gagal",
    "failed": "gagal",
    "running": "sedang berjalan",
    "interrupted": "terputus",
}


def label(table: dict[str, str], code: str | None, empty: str = "-") -> str:
    if not code:
        return empty
    return table.get(code, code)
