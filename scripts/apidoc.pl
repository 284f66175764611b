#!/usr/bin/env perl
# The API reference, from the public headers' own comments.
#
#   scripts/apidoc.pl OUTDIR [HEADER_DIR]   one Markdown page per header
#   scripts/apidoc.pl --check [HEADER_DIR]  fail if a function is undocumented
#
# HEADER_DIR defaults to include/eddy. A public function (declared with
# EDDY_EXTERN) is documented by the comment just above it. Declarations on
# consecutive lines form a group that shares the comment above its first
# line (eddy_ref / eddy_unref / eddy_has_ref); a blank line ends a group, so
# every group needs words of its own. A divider comment (a single line
# starting with "--") documents nothing. Only perl's core is used: the
# reference builds wherever the library does.
use strict;
use warnings;
use File::Basename qw(basename);
use File::Path qw(make_path);

my $check = 0;
if (@ARGV && $ARGV[0] eq '--check') {
  $check = 1;
  shift @ARGV;
}
my $outdir = $check ? undef : shift @ARGV;
die "usage: $0 OUTDIR [HEADER_DIR] | --check [HEADER_DIR]\n"
  if !$check && !defined $outdir;
my $hdir = shift @ARGV // 'include/eddy';
opendir(my $dh, $hdir) or die "$0: cannot open $hdir: $!\n";
my @headers = sort grep { /\.h$/ } readdir $dh;
closedir $dh;
die "$0: no headers in $hdir\n" unless @headers;

# A comment's text without the comment markers and the leading " * ".
sub comment_text {
  my ($c) = @_;
  $c =~ s{^/\*+ ?}{};
  $c =~ s{\*+/$}{};
  my @lines = map { s/^\s*\*(?: |$)//r } split /\n/, $c;
  s/\s+$// for @lines;
  shift @lines while @lines && $lines[0] eq '';
  pop @lines while @lines && $lines[-1] eq '';
  my $min;    # common indentation, so code examples keep their shape
  for (@lines) {
    next if $_ eq '';
    my ($ind) = /^( *)/;
    $min = length $ind if !defined $min || length $ind < $min;
  }
  $min //= 0;
  return join "\n", map { length $_ >= $min ? substr($_, $min) : $_ } @lines;
}

# Parse one header: its opening comment, and its functions in order, each
# { name, decl, line, doc } with doc undef when it has no comment.
sub parse {
  my ($path) = @_;
  open(my $fh, '<', $path) or die "$0: $path: $!\n";
  local $/;
  my $src = <$fh>;
  close $fh;

  my $intro;
  $intro = comment_text($1) if $src =~ m{\A\s*(/\*.*?\*/)}s;

  my @funcs;
  my $doc;        # the comment waiting for the declaration below it
  my $last_decl = 0;  # the previous item was a declaration
  while ($src =~ m{\G(.*?)(/\*.*?\*/|EDDY_EXTERN\b[^;]*;)}gs) {
    my ($gap, $item) = ($1, $2);
    my $line = 1 + (() = substr($src, 0, $-[2]) =~ /\n/g);
    # Code in between, or a blank line after a declaration, ends what the
    # last comment covers.
    undef $doc if $gap =~ /\S/ || ($last_decl && $gap =~ /\n[ \t]*\n/);
    if ($item =~ m{^/\*}) {
      my $text = comment_text($item);
      $doc = ($text =~ /^-/ && $text !~ /\n/) ? undef : $text;
      $last_decl = 0;
      next;
    }
    my ($name) = $item =~ /\b(eddy_\w+)\s*\(/;
    next unless defined $name;    # EDDY_EXTERN on a variable: none today
    (my $decl = $item) =~ s/^EDDY_EXTERN\s+//;
    $decl =~ s/\s+/ /g;
    $decl =~ s/\( /(/g;
    push @funcs, { name => $name, decl => $decl, line => $line, doc => $doc };
    $last_decl = 1;
  }
  return ($intro, \@funcs);
}

my @missing;
my $total = 0;
make_path($outdir) unless $check;
my @index;
for my $h (@headers) {
  my ($intro, $funcs) = parse("$hdir/$h");
  $total += @$funcs;
  for my $f (@$funcs) {
    push @missing, "$hdir/$h:$f->{line}: $f->{name} has no comment"
      unless defined $f->{doc} && $f->{doc} =~ /\w/;
  }
  next if $check;

  (my $page = $h) =~ s/\.h$/.md/;
  my $title = "eddy/$h";
  my $summary = '';
  $summary = $1 if defined $intro && $intro =~ /^eddy\/\Q$h\E:\s*(.*?)(?:\n\n|\z)/s;
  $summary =~ s/\s+/ /g;
  push @index, "- [$title]($page): $summary";

  open(my $out, '>', "$outdir/$page") or die "$0: $outdir/$page: $!\n";
  print $out "# $title\n\n";
  print $out "```c\n#include <eddy/$h>\n```\n\n";
  if (defined $intro) {
    (my $body = $intro) =~ s/^eddy\/\Q$h\E:\s*//;
    print $out "$body\n\n";
  }
  if (@$funcs) {
    print $out "## Functions\n\n";
    my $prev_doc;
    for my $f (@$funcs) {
      print $out "### $f->{name}\n\n```c\n$f->{decl}\n```\n\n";
      if (!defined $f->{doc}) {
        print $out "(undocumented)\n\n";
      } elsif (defined $prev_doc && $prev_doc eq $f->{doc}) {
        print $out "See above.\n\n";
      } else {
        print $out "$f->{doc}\n\n";
      }
      $prev_doc = $f->{doc};
    }
  }
  close $out;
}

if ($check) {
  if (@missing) {
    print STDERR "$_\n" for @missing;
    printf STDERR "%d of %d public functions have no comment of their own\n",
      scalar @missing, $total;
    exit 1;
  }
  print "all $total public functions in $hdir are documented\n";
  exit 0;
}

open(my $ix, '>', "$outdir/index.md") or die "$0: $outdir/index.md: $!\n";
print $ix "# eddy API reference\n\nOne page per public header, made from the"
  . " headers' comments by scripts/apidoc.pl.\n\n";
print $ix "$_\n" for @index;
close $ix;
print "wrote ", scalar(@headers) + 1, " pages to $outdir\n";
warn "warning: $_\n" for @missing;
exit 0;
