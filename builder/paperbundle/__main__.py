from paperbundle.cli import main_entry

main_entry()
