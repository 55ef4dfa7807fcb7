"""manage.py seed_bench --incidents 1000000: the data set of `make bench` (see bench/seed.py), loaded in bulk."""

from django.core.management.base import BaseCommand, CommandError

from bench.common import write_result
from bench.seed import check, seed


class Command(BaseCommand):
    help = "Load the benchmark data set (a million incidents by default) into a PostgreSQL database named *bench*."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=1_000_000)
        parser.add_argument("--reload", action="store_true", help="load again even when one of this size is there")
        parser.add_argument("--seed", type=int, default=8, help="random seed")
        parser.add_argument("--check", action="store_true", help="then check the data set (a sample of its clocks)")

    def handle(self, *args, **options):
        figures = seed(options["incidents"], reload=options["reload"], rng_seed=options["seed"], log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"{figures['tickets']:,} tickets ready ({figures['seconds']} s to load)"))
        write_result("seed", {"dataset": figures, "reused": figures.get("reused", False)})
        if options["check"]:
            wrong = check(log=self.stdout.write)
            if wrong:
                raise CommandError("the data set is not valid: " + "; ".join(wrong))
            self.stdout.write(self.style.SUCCESS("the data set is valid"))
